"""Long-term access keys: in the OS keyring, in the AWS files, and rotated."""
