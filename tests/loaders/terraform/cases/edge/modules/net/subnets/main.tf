variable "cidr" {}

resource "aws_subnet" "this" {
  cidr_block = cidrsubnet(var.cidr, 8, 0)
}
