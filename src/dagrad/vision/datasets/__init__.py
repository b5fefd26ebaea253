"""torchvision.datasets for dagrad: ImageFolder / DatasetFolder, MNIST and CIFAR10.

MNIST and CIFAR10 download from torchvision's URLs (class attributes `mirrors` / `url`, so they
can be pointed elsewhere), verify md5 checksums and extract into `root` like torchvision.
CIFAR10's batches are pickles: they are read through a restricted unpickler that admits only
NumPy's array reconstruction, so a tampered file cannot run code. Images are returned as PIL
images (Pillow is imported lazily) unless a transform converts them.
"""
from .cifar import CIFAR10, CIFAR100
from .folder import IMG_EXTENSIONS, DatasetFolder, ImageFolder, default_loader, pil_loader
from .mnist import MNIST, FashionMNIST
from .utils import check_integrity, download_and_extract_archive, download_url, extract_archive
from .vision import VisionDataset

__all__ = ["VisionDataset", "DatasetFolder", "ImageFolder", "MNIST", "FashionMNIST", "CIFAR10",
           "CIFAR100", "IMG_EXTENSIONS", "default_loader", "pil_loader", "check_integrity",
           "download_url", "download_and_extract_archive", "extract_archive"]
