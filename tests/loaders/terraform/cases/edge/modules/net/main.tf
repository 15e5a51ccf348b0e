variable "cidr" {}
variable "name" {}

module "subnets" {
  source = "./subnets"
  cidr   = var.cidr
}
