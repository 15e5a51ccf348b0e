"""The two ApplicationSet template languages, on the forms the Argo CD documentation and real
ApplicationSets use."""

from __future__ import annotations

import pytest

from urr_audit.loaders.argocd.templates import (
    TemplateError,
    Unsupported,
    fasttemplate,
    gotemplate,
    normalize_name,
    render_strings,
)

PARAMS = {
    "path": {
        "path": "apps/guestbook",
        "basename": "guestbook",
        "basenameNormalized": "guestbook",
        "segments": ["apps", "guestbook"],
    },
    "name": "Prod_EU",
    "server": "https://10.0.0.1",
    "metadata": {"labels": {"env": "prod"}},
    "values": {"revision": "v1.2.0"},
}


@pytest.mark.parametrize(
    "text, out",
    [
        ("{{.path.basename}}", "guestbook"),
        ("{{ .path.basename }}-{{ .metadata.labels.env }}", "guestbook-prod"),
        ("{{index .path.segments 1}}", "guestbook"),
        ("{{ .name | lower }}", "prod_eu"),
        ("{{ .name | normalize }}", "prod-eu"),
        ('{{ default "main" .values.branch }}', "main"),
        ('{{ .values.revision | default "main" }}', "v1.2.0"),
        ('{{ if eq .metadata.labels.env "prod" }}release{{ else }}main{{ end }}', "release"),
        ('{{ if eq .metadata.labels.env "dev" }}a{{ else if eq .name "Prod_EU" }}b{{ end }}', "b"),
        ('{{ printf "%s-%s" .path.basename .metadata.labels.env }}', "guestbook-prod"),
        ("{{ trunc 4 .path.basename }}", "gues"),
        ('{{ replace "_" "-" .name | lower }}', "prod-eu"),
        ("{{ .missing }}", "<no value>"),
        ("{{ .missing.deeper }}", "<no value>"),
        ("  {{- .path.basename -}}  !", "guestbook!"),
        ("{{/* a comment */}}x", "x"),
        ("{{ (index .path.segments 0) | upper }}", "APPS"),
        ("{{ .path.segments }}", "[apps guestbook]"),
    ],
)
def test_go_template(text, out):
    assert gotemplate(text, PARAMS) == out


def test_missingkey_error_is_an_argo_error():
    with pytest.raises(TemplateError):
        gotemplate("{{ .nope }}", PARAMS, ["missingkey=error"])


@pytest.mark.parametrize(
    "text", ["{{ range .path.segments }}{{ . }}{{ end }}", "{{ $x := 1 }}", "{{ sha256sum .name }}"]
)
def test_what_is_not_evaluated_is_said_so(text):
    with pytest.raises(Unsupported):
        gotemplate(text, PARAMS)


def test_unbalanced_if_is_an_error():
    with pytest.raises(TemplateError):
        gotemplate("{{ if .name }}x", PARAMS)


def test_fasttemplate_leaves_unknown_tags_and_trims_spaces():
    params = {"path.basename": "guestbook", "path[0]": "apps", "cluster": "prod"}
    assert fasttemplate("{{path.basename}}-{{ cluster }}", params) == "guestbook-prod"
    assert fasttemplate("{{path[0]}}/{{nope}}/{{", params) == "apps/{{nope}}/{{"


def test_normalize_is_argo_sanitize_name():
    assert normalize_name("My_Cluster.EU--") == "my-cluster.eu"


def test_render_strings_templates_values_and_keys():
    tmpl = {"metadata": {"name": "{{x}}", "labels": {"{{x}}": "y"}}, "n": 3}
    assert render_strings(tmpl, lambda s: fasttemplate(s, {"x": "a"})) == {
        "metadata": {"name": "a", "labels": {"a": "y"}},
        "n": 3,
    }
