"""Domain errors raised by the services (reports, units, telephony, interop). Input errors
are Django ValidationErrors (field → messages, answered 400); these are the others
(core.api answers ActionForbidden 403, TransitionNotAllowed 409)."""


class DispatchError(Exception):
    """Base class: something the request asked for cannot happen."""

    def __init__(self, message: str):
        self.message = str(message)
        super().__init__(self.message)


class TransitionNotAllowed(DispatchError):
    """The object is not in a state that allows this action (answered 409)."""


class ActionForbidden(DispatchError):
    """This user's role may not take this action."""
