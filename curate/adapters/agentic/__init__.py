"""Adapters for SWE agentic / agentless sources and natural-language proof sources.

Priorities 10–30: these shapes are specific (an OpenAI-messages record with `instance_id` and `resolved` is
SWE-Gym, not generic chat), so they must be tried before the generic chat adapters (priority ≥ 40).
"""

from curate.adapters.agentic.agentless import (
    AgentlessLocalizationAdapter,
    AgentlessRepairAdapter,
    PatchPredictionAdapter,
)
from curate.adapters.agentic.gym_proofs import (
    MathProofJudgementAdapter,
    ProofGenSelectAdapter,
    ProofJudgePromptAdapter,
    ProofVerificationAdapter,
)
from curate.adapters.agentic.mini_swe_agent import MiniSWEAgentAdapter
from curate.adapters.agentic.nebius import NebiusSWEAgentAdapter
from curate.adapters.agentic.proofs import IMOProofBenchAdapter, OlympiadBenchAdapter, ProofNetAdapter
from curate.adapters.agentic.swe_agent_traj import SWEAgentTrajAdapter
from curate.adapters.agentic.swe_gym import SWEGymOpenHandsAdapter
from curate.adapters.agentic.swe_smith import SWESmithAdapter
from curate.adapters.agentic.swerl import SWERLGenPromptAdapter, SWERLJudgePromptAdapter
from curate.adapters.base import Adapter

ADAPTERS: list[Adapter] = [
    NebiusSWEAgentAdapter(),
    SWEGymOpenHandsAdapter(),
    SWESmithAdapter(),
    SWEAgentTrajAdapter(),
    MiniSWEAgentAdapter(),
    AgentlessLocalizationAdapter(),
    AgentlessRepairAdapter(),
    PatchPredictionAdapter(),
    SWERLGenPromptAdapter(),
    SWERLJudgePromptAdapter(),
    ProofNetAdapter(),
    IMOProofBenchAdapter(),
    OlympiadBenchAdapter(),
    ProofGenSelectAdapter(),
    MathProofJudgementAdapter(),
    ProofVerificationAdapter(),
    ProofJudgePromptAdapter(),
]
