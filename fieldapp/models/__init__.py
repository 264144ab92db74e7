"""All models, one module per aggregate, imported here so Alembic and the app see every table.

geography  city -> county -> town -> village
roster     registered poor households, first secretaries
users      accounts, roles, login throttling
cycles     the annual assessment and evaluator assignments
sampling   draws, per-village results, sample entries, replacements
visits     household visits from phones
checkins   residency check-ins, leave, spot checks, work-discipline decisions
meetings   democratic evaluation meetings, anonymous ballots, paper tallies
scores     scorecard entries, computed results, the county finalisation lock
sync       the ledger of client UUIDs (exactly-once sync)
audit      the audit log
"""
from .audit import AuditLog
from .base import Points, UTCDateTime, new_token, new_uuid, utcnow
from .checkins import CheckIn, DisciplineDecision, LeaveRequest, RetiredCheckinToken, SpotCheck
from .cycles import DEFAULT_CYCLE_SETTINGS, Cycle, EvaluatorAssignment
from .geography import City, County, Town, Village
from .meetings import MEETING_CATEGORIES, Ballot, BallotToken, Meeting, PaperTally
from .roster import FirstSecretary, Household
from .sampling import Draw, Replacement, SampleEntry, VillageDraw
from .scores import SEVEN_ONES, ScoreDecision, ScoreLock, ScorecardEntry, ScoreResult
from .sync import ClientRecord
from .users import COUNTY_ROLES, ROLES, SECRETARY_ROLE, LoginSession, LoginThrottle, User
from .visits import Visit

__all__ = [
    "AuditLog", "Points", "UTCDateTime", "new_token", "new_uuid", "utcnow",
    "CheckIn", "DisciplineDecision", "LeaveRequest", "RetiredCheckinToken", "SpotCheck",
    "DEFAULT_CYCLE_SETTINGS", "Cycle", "EvaluatorAssignment",
    "City", "County", "Town", "Village",
    "MEETING_CATEGORIES", "Ballot", "BallotToken", "Meeting", "PaperTally",
    "FirstSecretary", "Household",
    "Draw", "Replacement", "SampleEntry", "VillageDraw",
    "SEVEN_ONES", "ScoreDecision", "ScoreLock", "ScorecardEntry", "ScoreResult",
    "ClientRecord", "COUNTY_ROLES", "ROLES", "SECRETARY_ROLE", "LoginSession", "LoginThrottle", "User", "Visit",
]
