"""Dockerfile check templates: base images, the user the image runs as, remote ADD, secrets."""
