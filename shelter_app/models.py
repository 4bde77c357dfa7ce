"""Imports every model so that the metadata (and Alembic) knows all tables."""
from .audit.models import AuditEvent  # noqa: F401
from .auth.models import LoginFailure, User, UserSession  # noqa: F401
from .shelters.models import AvailabilityChange, Bed, Room, Shelter, ShelterStaff  # noqa: F401
from .residents.models import Resident  # noqa: F401
from .beds.models import Hold, Isolation, Stay  # noqa: F401
from .api.models import ApiToken  # noqa: F401
from .referrals.models import Referral  # noqa: F401
from .passkeys.models import Passkey, WebAuthnChallenge  # noqa: F401
from .submissions import FormSubmission  # noqa: F401
from .handovers.models import (DutyAssignment, Handover, HandoverEntry, Outing, Round, RoundCheck,  # noqa: F401
                               RoundTime, ShiftSettings, Task)
