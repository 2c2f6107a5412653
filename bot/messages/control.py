"""The control socket's refusals: what a running selfreg answers the CLI when it has no such
part (the CLI prints the text as ``selfreg: <text>``)."""


def control_no_actions() -> str:
    return "no actions are configured"


def control_models_off() -> str:
    return "every model is off in [models]"


def control_no_reload() -> str:
    return "reload is not available"
