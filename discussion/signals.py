"""Signals between areas that should not import each other (blinker, as Flask's own)."""

from blinker import Namespace

_signals = Namespace()

# Someone's staff rights may have ended (logout, new password or role, removal from an
# event or of the account): open sockets are checked at once (discussion.sockets).
staff_rights_changed = _signals.signal("staff-rights-changed")
