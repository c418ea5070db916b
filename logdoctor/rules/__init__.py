"""The rules, registered explicitly (a meta-test checks every module is here).

Codes are grouped and permanent: LD1xx numerics, LD2xx optimisation dynamics,
LD3xx generalisation, LD4xx configuration, LD5xx what the framework did.
"""

from logdoctor.rules.accuracy_collapse import AccuracyCollapse
from logdoctor.rules.layer_blowup import LayerBlowup
from logdoctor.rules.loss_divergence import LossDivergence
from logdoctor.rules.loss_explosion import LossExplosion
from logdoctor.rules.loss_saturation import LossSaturation
from logdoctor.rules.loss_weight_culprit import LossWeightCulprit
from logdoctor.rules.lr_nan import LrNan
from logdoctor.rules.lr_policy_misconfigured import LrPolicyMisconfigured
from logdoctor.rules.nan_at_start import NanAtStart
from logdoctor.rules.nan_masked import NanMasked
from logdoctor.rules.no_learning import NoLearning
from logdoctor.rules.overfitting import Overfitting
from logdoctor.rules.pooling_stride_exceeds_kernel import PoolingStrideExceedsKernel
from logdoctor.rules.stopped_by_framework import StoppedByFramework
from logdoctor.rules.sudden_nan import SuddenNan
from logdoctor.rules.vanishing_values import VanishingValues

RULES = (
    LossExplosion,
    SuddenNan,
    NanAtStart,
    LrNan,
    LayerBlowup,
    VanishingValues,
    LossSaturation,
    NanMasked,
    LossDivergence,
    AccuracyCollapse,
    NoLearning,
    LossWeightCulprit,
    Overfitting,
    LrPolicyMisconfigured,
    PoolingStrideExceedsKernel,
    StoppedByFramework,
)
