"""Every projection by name: the one list the runner, the CLI and the server read."""

from __future__ import annotations

from typing import Any

from eventsourcing.projection import Projection

from projections.accidents.register import AccidentRegisterProjection
from projections.accounts.rights import AccountRightsProjection
from projections.disasters.board import BoardProjection
from projections.disasters.statistics import StatisticsProjection
from projections.disasters.upward import UpwardProjection
from projections.housing.files import HousingProjection
from projections.incidents.command import IncidentCommandProjection
from projections.relief.funds import FundsProjection
from projections.relief.roster import RosterProjection

PROJECTIONS: dict[str, type[Projection[Any]]] = {
    p.name: p for p in (BoardProjection, StatisticsProjection, RosterProjection, FundsProjection, HousingProjection,
                        AccidentRegisterProjection, IncidentCommandProjection, AccountRightsProjection,
                        UpwardProjection)
}
