# off_plugin's reliability policies (README, "Reliability"): every config of
# the project inherits this file; a config of yours can too, with its path in
# your _base_ list: <the off_plugin package>/.mim/configs/_base_/
# off_policies.py (printed by `python -c "import off_plugin.engine as e;
# print(e.POLICIES)"`). mmengine 0.10.7 resolves `pkg::` _base_ paths only
# for OpenMMLab's own packages, so `off_plugin::` cannot be used.
# - ExactResumeHook: checkpoints carry the random generators' states and
#   --resume restores them (the resumed run continues bit for bit); resuming
#   from a checkpoint of another model is refused.
# - FiniteLossHook: a NaN / inf loss stops the run at once, naming the last
#   checkpoint (a step the AMP loss scaler skipped is not divergence).
# - AtomicCheckpoints: checkpoints and last_checkpoint are written atomically
#   and old ones deleted after the new one is in place.
# Opt-in: dict(type='SkipBadSamplesHook', max_skips=N) skips up to N samples
# that fail to load. mmengine refuses two _base_ files that both set
# custom_hooks (MMagic's default_runtime.py does): there, list these hooks in
# your config's own custom_hooks.
custom_hooks = [
    dict(type='ExactResumeHook'),
    dict(type='FiniteLossHook'),
    dict(type='AtomicCheckpoints'),
]
