"""The local stack reads template.yaml's Parameters as CloudFormation would: defaults, overrides (the
twin of `sam deploy --parameter-overrides`), and the Conditions built on them (CorsOrigin)."""

from __future__ import annotations

import pytest

from quantlink_local.template import PARAMETER_OVERRIDES, Resolver, Template, parameter_overrides

WEBSITE = "http://127.0.0.1:3000"


def resolver(template: Template) -> Resolver:
    def attribute(logical_id: str, name: str) -> str:
        assert (logical_id, name) == ("WebBucket", "WebsiteURL")
        return WEBSITE

    return Resolver(template, region="us-east-1", stack_name="ql", physical_ids={}, attributes=attribute)


def owner_api_cors_origin(template: Template) -> str:
    (spec,) = [s for s in template.functions() if s.logical_id == "OwnerApiFunction"]
    return str(resolver(template).resolve(spec.environment["CORS_ORIGIN"]))


def test_the_cors_origin_is_the_spas_website_unless_a_parameter_names_one() -> None:
    default = Template.load()
    assert owner_api_cors_origin(default) == WEBSITE
    assert resolver(default).resolve(default.api()["Cors"]["AllowOrigin"]) == f"'{WEBSITE}'"
    custom = Template.load(overrides={"CorsOrigin": "https://app.example.com"})
    assert owner_api_cors_origin(custom) == "https://app.example.com"
    answers = custom.gateway_responses(resolver(custom).resolve)
    assert {a.headers["Access-Control-Allow-Origin"] for a in answers.values()} == {"https://app.example.com"}


def test_the_terminal_limits_reach_both_terminal_functions() -> None:
    template = Template.load(overrides={"TerminalPullLimit": "7"})
    for logical_id in ("TerminalPullFunction", "TerminalAckFunction"):
        (spec,) = [s for s in template.functions() if s.logical_id == logical_id]
        limits = {name: spec.environment[name] for name in ("PULL_RATE_LIMIT", "ACK_RATE_LIMIT")}
        assert resolver(template).resolve(limits) == {"PULL_RATE_LIMIT": "7", "ACK_RATE_LIMIT": "1200"}


def test_overrides_are_name_value_pairs_of_declared_parameters() -> None:
    assert parameter_overrides({}) == {}
    given = {PARAMETER_OVERRIDES: "TerminalPullLimit=5  CorsOrigin=https://a.example/x=y"}
    assert parameter_overrides(given) == {"TerminalPullLimit": "5", "CorsOrigin": "https://a.example/x=y"}
    with pytest.raises(ValueError, match="Name=Value"):
        parameter_overrides({PARAMETER_OVERRIDES: "TerminalPullLimit"})
    with pytest.raises(ValueError, match="no parameter 'Nope'"):
        Template.load(overrides={"Nope": "1"})
