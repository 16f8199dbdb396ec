"""The facility simulator: the site's PLCs served over real Modbus TCP.

:mod:`hal.sim.plant` is the physics (pure, seeded), :mod:`hal.sim.server`
serves it as one Modbus TCP server per PLC with fault injection, and
:mod:`hal.sim.scenario` scripts it in simulated time.
"""

from hal.sim.plant import (
    AirlockSpec,
    DoorSpec,
    FaultCode,
    Plant,
    PlantError,
    PlantSpec,
    RoomSpec,
)
from hal.sim.scenario import (
    Action,
    Scenario,
    ScenarioError,
    ScenarioTargets,
    Step,
    load_scenario,
    parse_scenario,
)
from hal.sim.server import ExceptionRule, Simulator, SimulatorError

__all__ = [
    "Action",
    "AirlockSpec",
    "DoorSpec",
    "ExceptionRule",
    "FaultCode",
    "Plant",
    "PlantError",
    "PlantSpec",
    "RoomSpec",
    "Scenario",
    "ScenarioError",
    "ScenarioTargets",
    "Simulator",
    "SimulatorError",
    "Step",
    "load_scenario",
    "parse_scenario",
]
