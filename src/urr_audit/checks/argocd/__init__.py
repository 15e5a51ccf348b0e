"""Argo CD check templates (on the Applications, ApplicationSets and AppProjects of the model)."""
