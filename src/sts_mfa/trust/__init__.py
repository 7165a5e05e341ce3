"""trust: whether a trust policy lets anyone in without MFA, decided by an SMT solver, with a witness."""
