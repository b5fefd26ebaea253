from .module import Module  # noqa: F401
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential  # noqa
from .linear import Bilinear, Identity, Linear  # noqa: F401
from .activation import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d  # noqa: F401
from .pooling import *  # noqa: F401,F403
from .padding import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .sparse import Embedding, EmbeddingBag  # noqa: F401
from .flatten import Flatten, Unflatten  # noqa: F401
from .upsampling import *  # noqa: F401,F403
try:
    from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell  # noqa: F401
except ImportError:  # pragma: no cover
    pass
try:
    from .attention import MultiheadAttention  # noqa: F401
except ImportError:  # pragma: no cover
    pass
from .transformer import (Transformer, TransformerDecoder, TransformerDecoderLayer,  # noqa: F401
                          TransformerEncoder, TransformerEncoderLayer)
from .linear import NonDynamicallyQuantizableLinear  # noqa: F401
from .distance import ChannelShuffle, CosineSimilarity, Fold, PairwiseDistance, Unfold  # noqa
from .rnn import RNNCellBase  # noqa: F401
from .pooling import LPPool2d, MaxUnpool2d  # noqa: F401
from .lazy import *  # noqa: F401,F403
