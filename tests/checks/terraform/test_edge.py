"""Provider configurations followed through module `providers` maps (CloudFront certificates)."""

from __future__ import annotations

import textwrap

import pytest

from urr_audit.scan import scan

ROOT = """
provider "aws" {
  REGION
}

provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"
}

module "cdn" {
  source = "./cdn"
  PROVIDERS
}
"""

CDN = """
resource "aws_acm_certificate" "site" {
  CERT_PROVIDER
  domain_name       = "www.example.com"
  validation_method = "DNS"
}

resource "aws_cloudfront_distribution" "site" {
  enabled = true
  viewer_certificate {
    acm_certificate_arn = aws_acm_certificate.site.arn
    ssl_support_method  = "sni-only"
  }
}
"""


@pytest.mark.parametrize(
    ("region", "providers", "cert_provider", "found", "undecided"),
    [
        ('region = "eu-west-1"', "", "", 1, 0),  # the default provider is inherited
        ('region = "eu-west-1"', "providers = { aws = aws.us_east_1 }", "", 0, 0),
        ('region = "eu-west-1"', "providers = { aws = aws, aws.edge = aws.us_east_1 }", "provider = aws.edge", 0, 0),
        ('region = "eu-west-1"', "providers = { aws = aws, aws.edge = aws }", "provider = aws.edge", 1, 0),
        ("", "", "", 0, 1),  # the region comes from the environment
    ],
)
def test_certificate_region_through_providers(tmp_path, region, providers, cert_provider, found, undecided):
    (tmp_path / "cdn").mkdir()
    (tmp_path / "main.tf").write_text(textwrap.dedent(ROOT).replace("REGION", region).replace("PROVIDERS", providers))
    (tmp_path / "cdn" / "main.tf").write_text(textwrap.dedent(CDN).replace("CERT_PROVIDER", cert_provider))
    r = scan(tmp_path, select=["URR-TF-049"]).result
    assert (len(r.findings), len(r.undecided)) == (found, undecided), [f.message for f in r.findings + r.undecided]
