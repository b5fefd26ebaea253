from .activation import *  # noqa: F401,F403
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential  # noqa
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d  # noqa: F401
from .conv import ConvTranspose3d  # noqa: F401
from .dropout import *  # noqa: F401,F403
from .flatten import Flatten, Unflatten  # noqa: F401
from .linear import Bilinear, Identity, Linear  # noqa: F401
from .loss import *  # noqa: F401,F403
from .module import Module  # noqa: F401
from .normalization import *  # noqa: F401,F403
from .padding import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .sparse import Embedding, EmbeddingBag  # noqa: F401
from .upsampling import *  # noqa: F401,F403

try:
    from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell  # noqa: F401
except ImportError:  # pragma: no cover
    pass
try:
    from .attention import MultiheadAttention  # noqa: F401
except ImportError:  # pragma: no cover
    pass
from .distance import ChannelShuffle, CosineSimilarity, Fold, PairwiseDistance, Unfold  # noqa
from .lazy import *  # noqa: F401,F403
from .linear import NonDynamicallyQuantizableLinear  # noqa: F401
from .pooling import LPPool2d, MaxUnpool2d  # noqa: F401
from .rnn import RNNCellBase  # noqa: F401
from .transformer import (  # noqa: F401
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from .adaptive import AdaptiveLogSoftmaxWithLoss  # noqa: F401
from .parallel import DataParallel  # noqa: F401
