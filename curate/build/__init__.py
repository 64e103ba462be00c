"""`cascade build`: a recipe → ingest → filter → dedup → decontam → mix (→ tokenize → pack), with a ledger that
adds up at every stage and a manifest that is byte-for-byte reproducible.

Layout of OUT: `<stage>/samples|rejects|duplicates/NNNNN.parquet` per stage, `<stage>/.done` (the stage's ledger
entry, written last: a re-run skips finished stages), `logs/` (datatrove logs and completion markers: a re-run
skips finished tasks), `ledger.json`, `manifest.json`. Determinism: tasks follow input shards, never workers, and
every random choice draws from the recipe seed, so 1 or N workers and a killed-then-resumed run give one manifest.

Modules: `run` (run_build: the output folder, stages in order, ledger + manifest), `stages` (Build: one method per
stage), `executor` (running a datatrove pipeline), `counting` (a stage's ledger entry from its shards), `mix`
(plan_mix, write_rows), `tokens` (the recipe's tokenizer: filter token counts, tokenize + pack), `fingerprint` (the
build stamp of what a build read).
"""

from curate.build.counting import stage_entry
from curate.build.executor import SLURM_POLL_SECONDS, run_plan
from curate.build.fingerprint import HASHED_FILE_BYTES, LEGACY_STAMP, STAMP, input_fingerprint
from curate.build.mix import plan_mix, write_rows
from curate.build.run import BUILD_OUTPUTS, ensure_demo_corpus, remove_build_outputs, run_build
from curate.build.stages import STAGES, VERSIONED_PACKAGES, Build, Progress
from curate.build.tokens import TemplateTokenCounter, recipe_tokenizer, tokenize_and_pack

__all__ = [
    "BUILD_OUTPUTS",
    "HASHED_FILE_BYTES",
    "LEGACY_STAMP",
    "SLURM_POLL_SECONDS",
    "STAGES",
    "STAMP",
    "VERSIONED_PACKAGES",
    "Build",
    "Progress",
    "TemplateTokenCounter",
    "ensure_demo_corpus",
    "input_fingerprint",
    "plan_mix",
    "recipe_tokenizer",
    "remove_build_outputs",
    "run_build",
    "run_plan",
    "stage_entry",
    "tokenize_and_pack",
    "write_rows",
]
