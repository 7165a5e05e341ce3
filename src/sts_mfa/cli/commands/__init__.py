"""One module per command; each imports its heavy dependencies inside its body."""

from sts_mfa.cli.commands.assume import assume
from sts_mfa.cli.commands.check_deny import check_deny
from sts_mfa.cli.commands.demo import demo
from sts_mfa.cli.commands.exec_ import exec_
from sts_mfa.cli.commands.list_buckets import list_buckets
from sts_mfa.cli.commands.sandbox import sandbox
from sts_mfa.cli.commands.setup import setup
from sts_mfa.cli.commands.status import status
from sts_mfa.cli.commands.teardown import teardown

ALL = [setup, check_deny, assume, list_buckets, exec_, teardown, demo, status, sandbox]
