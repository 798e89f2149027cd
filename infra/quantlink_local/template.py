"""template.yaml as data: CloudFormation tags, intrinsic functions, routes, functions.

The template is the source of truth: the local stack and the tests read tables, routes, authorizer,
gateway responses and environment from here, never from a second hand-kept list."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
ACCOUNT_ID = "123456789012"
# The local stack's twin of `sam deploy --parameter-overrides`: "Name=Value Name=Value".
PARAMETER_OVERRIDES = "QUANTLINK_PARAMETER_OVERRIDES"


def parameter_overrides(environ: Mapping[str, str]) -> dict[str, str]:
    """`QUANTLINK_PARAMETER_OVERRIDES` as a mapping (empty when unset)."""
    pairs = (environ.get(PARAMETER_OVERRIDES) or "").split()
    malformed = [pair for pair in pairs if "=" not in pair or pair.startswith("=")]
    if malformed:
        raise ValueError(f"{PARAMETER_OVERRIDES}: expected Name=Value pairs, got {malformed}")
    return dict(pair.split("=", 1) for pair in pairs)


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that reads `!Ref x` as {"Ref": "x"}, `!GetAtt a.b` as {"Fn::GetAtt": ["a", "b"]}, ..."""


def _construct_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)  # noqa: S506
    return loaded


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway resource template: /api/strategies/{strategyId}
    function: str  # logical id
    authorized: bool  # behind the Cognito authorizer

    @property
    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", re.escape(self.path))
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", regex)
        return re.compile(f"^{regex}$")

    @property
    def specificity(self) -> tuple[int, ...]:
        """Literal segments beat variables, as in API Gateway (/terminals/pull beats /terminals/{id})."""
        return tuple(1 if part.startswith("{") else 0 for part in self.path.strip("/").split("/"))


@dataclass(frozen=True)
class GatewayResponse:
    status: int | None  # None: the type's default (DEFAULT_4XX / DEFAULT_5XX)
    body: str
    headers: dict[str, str]


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str
    environment: dict[str, Any]
    timeout: int


@dataclass
class Template:
    data: dict[str, Any]
    parameters: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = TEMPLATE_PATH, overrides: Mapping[str, str] | None = None) -> Template:
        """The template with its Parameters' defaults, and `overrides` over them (as `sam deploy
        --parameter-overrides` does); an override of a parameter the template lacks is an error."""
        data = load_template(path)
        declared = data.get("Parameters", {})
        parameters = {name: str(spec.get("Default", "")) for name, spec in declared.items()}
        for name, value in (overrides or {}).items():
            if name not in declared:
                raise ValueError(f"{PARAMETER_OVERRIDES}: template.yaml has no parameter {name!r}")
            parameters[name] = str(value)
        return cls(data, parameters)

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.data["Resources"]
        return resources

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {name: spec for name, spec in self.resources.items() if spec["Type"] == kind}

    def functions(self) -> list[FunctionSpec]:
        globals_ = self.data.get("Globals", {}).get("Function", {})
        specs = []
        for name, resource in self.of_type("AWS::Serverless::Function").items():
            props = resource["Properties"]
            env = dict(globals_.get("Environment", {}).get("Variables", {}))
            env.update(props.get("Environment", {}).get("Variables", {}))
            specs.append(
                FunctionSpec(
                    logical_id=name,
                    code_dir=REPO_ROOT / props["CodeUri"],
                    handler=props.get("Handler", globals_.get("Handler", "")),
                    environment=env,
                    timeout=int(props.get("Timeout", globals_.get("Timeout", 3))),
                )
            )
        return specs

    def routes(self) -> list[Route]:
        routes = []
        for name, resource in self.of_type("AWS::Serverless::Function").items():
            for event in resource["Properties"].get("Events", {}).values():
                if event["Type"] != "Api":
                    continue
                props = event["Properties"]
                auth = props.get("Auth", {}).get("Authorizer")
                routes.append(Route(props["Method"].upper(), props["Path"], name, authorized=auth != "NONE"))
        return routes

    def api(self) -> dict[str, Any]:
        (props,) = [r["Properties"] for r in self.of_type("AWS::Serverless::Api").values()]
        api: dict[str, Any] = props
        return api

    def gateway_responses(self, resolve: Callable[[Any], Any]) -> dict[str, GatewayResponse]:
        answers = {}
        for kind, spec in self.api().get("GatewayResponses", {}).items():
            status = spec.get("StatusCode")
            headers = resolve(spec.get("ResponseParameters", {}).get("Headers", {}))
            answers[kind] = GatewayResponse(
                int(status) if status else None,
                spec["ResponseTemplates"]["application/json"],
                # API Gateway header values are quoted literals: "'*'"
                {name: str(value).strip("'") for name, value in headers.items()},
            )
        return answers


class Resolver:
    """Evaluates Ref / Fn::Sub / Fn::GetAtt / Fn::Join against what the local stack provisioned."""

    def __init__(
        self,
        template: Template,
        *,
        region: str,
        stack_name: str,
        physical_ids: Mapping[str, str],
        attributes: Callable[[str, str], str],
    ) -> None:
        self.template = template
        self.pseudo = {
            "AWS::Region": region,
            "AWS::StackName": stack_name,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        self.physical_ids = physical_ids
        self.attributes = attributes

    def ref(self, name: str) -> str:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.template.parameters:
            return self.template.parameters[name]
        if name in self.physical_ids:
            return self.physical_ids[name]
        raise KeyError(f"Ref {name} is not provisioned locally yet")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                return self.attributes(arg[0], arg[1])
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::Join":
                return str(arg[0]).join(str(self.resolve(v)) for v in arg[1])
            if key == "Fn::If":
                condition, then, otherwise = arg
                return self.resolve(then if self.condition(condition) else otherwise)
            if key == "Fn::Equals":
                return self.resolve(arg[0]) == self.resolve(arg[1])
            if key == "Fn::Not":
                return not self.resolve(arg[0])
        return {k: self.resolve(v) for k, v in value.items()}

    def condition(self, name: str) -> bool:
        """A template Condition, evaluated against the parameters (Fn::Equals / Fn::Not)."""
        return bool(self.resolve(self.template.data.get("Conditions", {})[name]))

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name:
                logical, attribute = name.split(".", 1)
                return self.attributes(logical, attribute)
            return self.ref(name)

        return re.sub(r"\$\{([^}!]+)\}", replace, text)
