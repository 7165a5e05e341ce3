"""What `exec` (and `exec --server`) removes from the child's environment, on its own.

The end-to-end runs are in test_exec.py; here the edge cases of the JVM's option
variables, split as the JVM splits them (white space, quotes taken whole, no escapes).
"""

from __future__ import annotations

import pytest

from sts_mfa.session.handoff import jvm_options_without_credentials, scrubbed


@pytest.mark.parametrize(
    ("options", "kept"),
    [
        ("-Xmx1g -Daws.accessKeyId=AKIAOTHER -Daws.secretKey=x", "-Xmx1g"),
        ("-Daws.region=eu-west-1\t-Daws.profile=admin", "-Daws.region=eu-west-1"),
        ("-Dtitle='a -Daws.accessKeyId=x b' -Daws.sessionToken", "-Dtitle='a -Daws.accessKeyId=x b'"),
        ("'-Daws.secretAccessKey=with space' -ea", "-ea"),
        ('-Daws."accessKeyId"=x -verbose', "-verbose"),  # quotes inside a token: the JVM drops them
        ("-Daws.disableEc2Metadata=false -Dcom.amazonaws.sdk.disableEc2Metadata=false", ""),
        ("-DAWS.accessKeyId=x", "-DAWS.accessKeyId=x"),  # property names are case-sensitive
        ("  ", ""),
    ],
)
def test_credential_properties_go_and_the_rest_stays_as_written(options: str, kept: str) -> None:
    assert jvm_options_without_credentials(options) == kept


def test_options_the_jvm_cannot_read_are_removed_whole() -> None:
    """An unmatched quote: the JVM refuses the variable; a reading of ours that differs keeps no key."""
    assert jvm_options_without_credentials("-Dx='unterminated -Daws.accessKeyId=AKIA") is None
    env = scrubbed({"JAVA_TOOL_OPTIONS": "-Dx='unterminated -Daws.accessKeyId=AKIA", "PATH": "/bin"})
    assert env == {"PATH": "/bin"}


def test_a_variable_left_with_nothing_is_removed_and_others_are_untouched() -> None:
    env = scrubbed(
        {
            "_JAVA_OPTIONS": "-Daws.accessKeyId=AKIA -Daws.secretKey=s",
            "JDK_JAVA_OPTIONS": "-Xss4m",
            "BOTO_CONFIG": "/home/me/.boto",
            "AWS_CREDENTIAL_FILE": "/home/me/creds",
            "AWS_REGION": "eu-west-1",
        }
    )
    assert env == {"JDK_JAVA_OPTIONS": "-Xss4m", "AWS_REGION": "eu-west-1"}
