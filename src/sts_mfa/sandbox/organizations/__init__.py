"""AWS Organizations as AWS answers it: who may list the accounts, and how the list is paged."""
