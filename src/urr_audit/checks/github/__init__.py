"""Checks over GitHub Actions workflows and local actions (`Project.workflows`).

Scopes: `github.workflow` (a `Workflow`), `github.action` (a local `Action`), `github.file`
(both), `github.job` (a `Job`), `github.step` (a `Step` of a workflow job or composite action).
"""
