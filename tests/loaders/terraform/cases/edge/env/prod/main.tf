terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
  cloud {
    organization = "urr"
    workspaces {
      name = "prod"
    }
  }
}

provider "aws" {
  region = "ap-northeast-2"
}

provider "aws" {
  alias  = "east"
  region = "us-east-1"
}

variable "settings" {
  type = object({
    name    = string
    retries = optional(number, 3)
  })
  nullable = false
  default  = { name = "x" }
  validation {
    condition     = length(var.settings.name) > 0
    error_message = "name must not be empty"
  }
}

variable "token" {
  type      = string
  sensitive = true
}

variable "instance_count" {
  default = 2
}

resource "aws_security_group" "sg" {
  name = "sg"
  dynamic "ingress" {
    for_each = [80, 443]
    content {
      from_port = ingress.value
      to_port   = ingress.value
    }
  }
}

resource "aws_instance" "web" {
  provider = aws.east
  count    = var.instance_count
  ami      = "ami-123"
}

data "aws_iam_policy_document" "p" {}

resource "aws_subnet" "per_az" {
  for_each   = toset(["a", "b"])
  cidr_block = cidrsubnet("10.0.0.0/16", 8, index(["a", "b"], each.key))
}

module "net" {
  source     = "../../modules/net"
  cidr       = "10.1.0.0/16"
  name       = "prod"
  depends_on = [aws_security_group.sg]
}

module "reg" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.1.0"
}

module "gitmod" {
  source = "git::https://example.com/mod.git?ref=v1"
}

module "gh" {
  source = "github.com/org/mod"
}

module "web" {
  source = "https://example.com/mod.zip"
}

module "bucket" {
  source = "s3::https://s3.amazonaws.com/b/mod.zip"
}

module "gcs" {
  source = "gcs::https://www.googleapis.com/storage/v1/b/mod.zip"
}

locals {
  from_registry = module.reg.vpc_id
}

moved {
  from = aws_instance.old
  to   = aws_instance.web
}

import {
  to = aws_security_group.sg
  id = "sg-123"
}

check "health" {
  assert {
    condition     = true
    error_message = "never"
  }
}

removed {
  from = aws_instance.gone
  lifecycle {
    destroy = false
  }
}
