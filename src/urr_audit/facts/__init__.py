"""Facts about the infrastructure a Terraform model describes, for the review report.

Loaders parse, these modules interpret, the report only formats. Everything here is a pure
function of the typed model (`Environment`, `ResourceInstance`): which subnets and route tables
exist and where they lead, which security groups admit which peers on which ports, which
resources feed which (an origin, a trigger, an environment variable), alarms and log groups.
Resource types and attribute names are data (`aws_catalog`), not knowledge of one repository.
A value unknown before apply stays a `Value` in the unknown state with its reason; nothing
here guesses it.
"""
