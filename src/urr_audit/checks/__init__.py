"""Check templates: generic, parameterised logic. Rules (rules/*.yaml) configure them."""
