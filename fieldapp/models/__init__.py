"""All models, imported here so Alembic and the app see every table."""
from .audit import AuditLog
from .base import UTCDateTime, new_token, new_uuid, utcnow
from .cycles import DEFAULT_CYCLE_SETTINGS, Cycle, EvaluatorAssignment
from .geography import City, County, Town, Village
from .roster import FirstSecretary, Household
from .sampling import Draw, Replacement, SampleEntry, VillageDraw
from .sync import ClientRecord
from .users import ROLES, LoginFailure, User
from .visits import Visit

__all__ = [
    "AuditLog", "UTCDateTime", "new_token", "new_uuid", "utcnow", "DEFAULT_CYCLE_SETTINGS",
    "Cycle", "EvaluatorAssignment", "City", "County", "Town", "Village", "FirstSecretary",
    "Household", "Draw", "Replacement", "SampleEntry", "VillageDraw", "ClientRecord", "ROLES",
    "LoginFailure", "User", "Visit",
]

from .checkins import (CheckIn, DisciplineDecision, LeaveRequest, RetiredCheckinToken,  # noqa: E402
                       SpotCheck)

__all__ += ["CheckIn", "DisciplineDecision", "LeaveRequest", "RetiredCheckinToken", "SpotCheck"]

from .meetings import (MEETING_CATEGORIES, Ballot, BallotToken, Meeting,  # noqa: E402
                       PaperTally)
from .scores import SEVEN_ONES, ScoreLock, ScorecardEntry, ScoreResult  # noqa: E402

__all__ += ["MEETING_CATEGORIES", "Ballot", "BallotToken", "Meeting", "PaperTally",
            "SEVEN_ONES", "ScoreLock", "ScorecardEntry", "ScoreResult"]
