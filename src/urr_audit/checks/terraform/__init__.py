"""Terraform check templates."""
