"""The SAM template's parameter constraints, read as CloudFormation reads them (cfn-lint's
decoder; cfn-lint and `sam validate` check the rest of the template in ./test)."""

import re

from cfnlint.decode import decode

from conftest import REPO


def parameter(name: str) -> dict:
    template, matches = decode(str(REPO / "template.yaml"))
    assert not matches, matches
    return template["Parameters"][name]


def test_the_input_prefix_is_a_folder_that_grants_no_more_than_itself():
    # The prefix goes into the ARNs of the policies: IAM would read *, ? and ${...} there.
    pattern = re.compile(parameter("InputPrefix")["AllowedPattern"])
    for good in ["uploads/", "photos/2026/", "a b+c/"]:
        assert pattern.fullmatch(good), good
    for bad in ["", "uploads", "/", "up*/", "*/", "a?/", "${aws:userid}/", "uploads/*/"]:
        assert not pattern.fullmatch(bad), bad
