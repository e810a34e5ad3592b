# off_plugin's reliability policies (docs/user_guides/reliability.md), for
# configs of any host: every config of the project selects them; a config of
# yours can too, with this file's path in its _base_ list (printed by
# `python -c "import off_plugin.engine as e; print(e.POLICIES)"`; mmengine
# 0.10.7 resolves `pkg::` _base_ paths only for OpenMMLab's own packages, so
# `off_plugin::` cannot be used) and two lines:
#
#   default_hooks = dict(checkpoint=_base_.off_checkpoint_hook)
#   custom_hooks = _base_.off_custom_hooks
#
# (MMagic's default_runtime.py sets custom_hooks: `custom_hooks =
# _base_.custom_hooks + _base_.off_custom_hooks` keeps its hooks.) This file
# sets neither default_hooks nor custom_hooks itself: mmengine refuses two
# _base_ files that set one key, every host's default_runtime.py sets
# default_hooks and MMagic's custom_hooks.
# mmengine merges default_hooks.checkpoint into the host's: its interval and
# save_best stay.
# - AtomicCheckpointHook: checkpoints and last_checkpoint are written
#   atomically and old ones deleted after the new one is in place.
# - ExactResumeHook: checkpoints carry the random generators' states and
#   --resume restores them (the resumed run continues bit for bit); resuming
#   from a checkpoint of another model is refused.
# - FiniteLossHook: a NaN / inf loss stops the run at once, naming the last
#   checkpoint (a step the AMP loss scaler skipped is not divergence).
# Opt-in: dict(type='SkipBadSamplesHook', max_skips=N) skips up to N samples
# that fail to load.
off_checkpoint_hook = dict(type='AtomicCheckpointHook')
off_custom_hooks = [
    dict(type='ExactResumeHook'),
    dict(type='FiniteLossHook'),
]
