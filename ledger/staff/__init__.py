"""Staff identity: members (each a person with an address holding their on-chain roles), custodial
staff keys, password + TOTP and Sign-In with Ethereum, sessions, the sign-in log, role names.

Authorization is not here: the API reads the member's roles from the mirror on every request
(indexer.staff_roles with `roles.ROLE_GRANTS`). docs/staff.md walks through it.
"""

from .demo import DEMO_LOGIN, DEMO_PASSWORD, DEMO_TOTP_SECRET, seed_demo_staff
from .errors import (
    CsrfError,
    SignInRefusedError,
    StaffConflictError,
    StaffError,
    StaffForbiddenError,
    StaffKeysUnavailableError,
    StaffLockedError,
    StaffNotAuthenticatedError,
    StaffNotFoundError,
)
from .keys import sign_typed_data, staff_keys
from .members import (
    Invitation,
    activate_member,
    deactivate_member,
    get_member,
    invite_member,
    list_members,
    member_events,
    set_areas,
)
from .models import (
    MemberKind,
    MemberStatus,
    SignInMethod,
    SiweNonce,
    StaffCredential,
    StaffMember,
    StaffMemberEvent,
    StaffSession,
    StaffSignIn,
)
from .passwords import LockoutPolicy, change_password, find_member, reset_password, rotate_totp, totp_uri
from .roles import DEFAULT_ADMIN_ROLE, ROLE_GRANTS, ROLE_NAMES, role_hash
from .sessions import (
    IssuedSession,
    SessionPolicy,
    csrf_token,
    needs_touch,
    resolve_session,
    revoke_member_sessions,
    revoke_session,
    touch_session,
)
from .signin import SignInPolicy, list_signins, record_signin, sign_in_with_password, sign_in_with_siwe
from .siwe import SiweMessage, issue_nonce

__all__ = [
    "DEFAULT_ADMIN_ROLE",
    "DEMO_LOGIN",
    "DEMO_PASSWORD",
    "DEMO_TOTP_SECRET",
    "ROLE_GRANTS",
    "ROLE_NAMES",
    "CsrfError",
    "Invitation",
    "IssuedSession",
    "LockoutPolicy",
    "MemberKind",
    "MemberStatus",
    "SessionPolicy",
    "SignInMethod",
    "SignInPolicy",
    "SignInRefusedError",
    "SiweMessage",
    "SiweNonce",
    "StaffConflictError",
    "StaffCredential",
    "StaffError",
    "StaffForbiddenError",
    "StaffKeysUnavailableError",
    "StaffLockedError",
    "StaffMember",
    "StaffMemberEvent",
    "StaffNotAuthenticatedError",
    "StaffNotFoundError",
    "StaffSession",
    "StaffSignIn",
    "activate_member",
    "change_password",
    "csrf_token",
    "deactivate_member",
    "find_member",
    "get_member",
    "invite_member",
    "issue_nonce",
    "list_members",
    "list_signins",
    "member_events",
    "needs_touch",
    "record_signin",
    "reset_password",
    "resolve_session",
    "revoke_member_sessions",
    "revoke_session",
    "role_hash",
    "rotate_totp",
    "seed_demo_staff",
    "set_areas",
    "sign_in_with_password",
    "sign_in_with_siwe",
    "sign_typed_data",
    "staff_keys",
    "totp_uri",
    "touch_session",
]
