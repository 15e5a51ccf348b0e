"""Workflow security rules (URR-GHA-010..039): zizmor's offline audits in urr-audit's model.

One module per concern: `pinning` (actions, reusable workflows and images by SHA/digest),
`permissions` (the GITHUB_TOKEN a job gets against what it uses), `injection` (attacker-
controlled text expanded into scripts, followed through env and step outputs), `triggers`
(privileged triggers running untrusted code, environment-file writes, cache restores in
release workflows), `secrets` (how secrets reach steps), `credentials` (persisted checkout
tokens, literal registry passwords, spoofable bot conditions). Shared knowledge of what is
attacker-controlled is in `taint`.
"""
