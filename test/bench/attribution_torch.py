"""PyTorch side of the attribution benchmark (dev-only: Debian python3-torch 1.13, python3-torchvision).

test/bench/attribution.bench.ts starts this as a long-lived worker when asked for the side-by-side
(--torch or PURE_BENCH_TORCH=1) and alternates its runs with its own, so that load from other processes
hits both alike. Line protocol on stdin/stdout:

    -> ready torch <version> threads <n>          (once, after start-up)
    <- run <case> <variant> <rows> <K>
    -> <milliseconds>                             (or: error <message>)
    <- peak
    -> <peak resident memory of this process, kB>

One run computes the circuit vectors of <rows> rows = <rows>/K images x K upper channels per image
(rows of one image adjacent, channel of image i's slot k: (i*K + k) mod C, as the node side), random
weights (torchvision's / the CIFAR ResNet's default initialisation) and random a_L' = ReLU(U(-1, 1)).
Variants:
  careful-shared  the careful user: parameters frozen, a_L' of the images requiring grad, the cut's
                  forward once, then per neuron slot one autograd.grad with retain_graph (all images
                  of the batch at once);
  careful-repeat  the other careful choice: a_L' repeated per row, one forward and one backward;
  authors         the authors' code path as zennit-crp's CondAttribution runs it (crp is not installed
                  here, so this re-traces it): the whole model from the input image, parameters
                  requiring grad, one row per (image, neuron) condition, forward to the logits, backward
                  from a_L's initial relevance all the way to the input (weight gradients included),
                  the gradient at L' captured by a tensor hook as crp records it.
Every variant ends in R = sum over space of grad * a_L', R / (sum |R| + 1e-10).
"""

import resource
import sys
import time

import torch
import torch.nn.functional as F
import torchvision
from torch import nn

EPSILON = 1e-10


# The CIFAR ResNet of the shared resnet56-cifar10.onnx (akamaster/pytorch_resnet_cifar10): BasicBlocks
# of 16/32/64 channels, 9 per stage, option-A (parameter-free) shortcut: subsample, zero-pad channels.
class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.pad = (cout - cin) // 2 if stride != 1 or cin != cout else None

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        skip = x if self.pad is None else F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))
        return F.relu(out + skip)


class CifarResNet(nn.Module):
    def __init__(self, blocks=9, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        stages, cin = [], 16
        for i, cout in enumerate((16, 32, 64)):
            stages.append(nn.Sequential(*[BasicBlock(cin if b == 0 else cout, cout, 2 if i and b == 0 else 1) for b in range(blocks)]))
            cin = cout
        self.layer1, self.layer2, self.layer3 = stages
        self.linear = nn.Linear(64, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.linear(F.adaptive_avg_pool2d(x, 1).flatten(1))


def build_case(name):
    """(full model, L' module, L module, cut module from a_L' to a_L, a_L' shape, input size)."""
    if name == "resnet56":
        model = CifarResNet().eval()
        return model, model.layer2, model.layer3, model.layer3, (32, 16, 16), 32
    model = torchvision.models.resnet50().eval()
    if name == "resnet50-block":
        return model, model.layer3, model.layer4[0], model.layer4[0], (1024, 14, 14), 224
    if name == "resnet50-layer4":
        return model, model.layer3, model.layer4, model.layer4, (1024, 14, 14), 224
    raise ValueError(f"unknown case '{name}' (resnet56, resnet50-block, resnet50-layer4)")


def normalised_relevance(grad, act):
    r = (grad * act).sum(dim=(2, 3))
    return r / (r.abs().sum(dim=1, keepdim=True) + EPSILON)


def seed(out, channels):
    """ReLU(a_L) on each row's channel, zero elsewhere: the initial relevance."""
    mask = F.one_hot(channels, out.shape[1]).to(out.dtype)[:, :, None, None]
    return out.detach().relu() * mask


def slot_channels(images, k, K, C):
    return torch.tensor([(i * K + k) % C for i in range(images)])


class Case:
    def __init__(self, name):
        self.model, self.lower_module, self.upper_module, self.cut, self.lower_shape, self.size = build_case(name)
        self.cut_frozen = None
        self.inputs = {}

    def lower(self, images):
        if images not in self.inputs:
            g = torch.Generator().manual_seed(1)
            self.inputs[images] = (torch.rand((images, *self.lower_shape), generator=g) * 2 - 1).relu()
        return self.inputs[images]

    def frozen(self):
        # The careful user freezes the parameters: no weight gradients.
        for p in self.model.parameters():
            p.requires_grad_(False)
        return self.cut

    def thawed(self):
        # The authors' path keeps PyTorch's default: parameters require grad.
        for p in self.model.parameters():
            p.requires_grad_(True)
        return self.model

    def careful_shared(self, rows, K):
        cut, images = self.frozen(), rows // K
        a = self.lower(images).clone().requires_grad_()
        out = cut(a)
        vectors = []
        for k in range(K):
            g = seed(out, slot_channels(images, k, K, out.shape[1]))
            (grad,) = torch.autograd.grad(out, a, grad_outputs=g, retain_graph=k < K - 1)
            vectors.append(normalised_relevance(grad, a.detach()))
        return vectors

    def careful_repeat(self, rows, K):
        cut = self.frozen()
        a = self.lower(rows // K).repeat_interleave(K, dim=0).requires_grad_()
        out = cut(a)
        g = seed(out, torch.arange(rows) % out.shape[1])
        (grad,) = torch.autograd.grad(out, a, grad_outputs=g)
        return normalised_relevance(grad, a.detach())

    def authors(self, rows, K):
        model = self.thawed()
        model.zero_grad(set_to_none=True)
        g = torch.Generator().manual_seed(2)
        x = torch.rand((rows // K, 3, self.size, self.size), generator=g).repeat_interleave(K, dim=0).requires_grad_()
        recorded = {}

        def record_lower(_module, _inputs, output):
            recorded["act"] = output
            output.register_hook(lambda grad: recorded.__setitem__("grad", grad))

        def record_upper(_module, _inputs, output):
            recorded["out"] = output

        hooks = [self.lower_module.register_forward_hook(record_lower), self.upper_module.register_forward_hook(record_upper)]
        try:
            model(x)
            out = recorded["out"]
            torch.autograd.backward(out, seed(out, torch.arange(rows) % out.shape[1]))
        finally:
            for h in hooks:
                h.remove()
        return normalised_relevance(recorded["grad"], recorded["act"].detach())


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    cases = {}
    print(f"ready torch {torch.__version__} threads {torch.get_num_threads()}", flush=True)
    for line in sys.stdin:
        if line.strip() == "peak":
            print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, flush=True)
            continue
        try:
            command, name, variant, rows, K = line.split()
            rows, K = int(rows), int(K)
            if command != "run" or rows % K != 0:
                raise ValueError(f"expected 'run <case> <variant> <rows> <K>' with K dividing rows, got '{line.strip()}'")
            case = cases.get(name) or cases.setdefault(name, Case(name))
            run = {"careful-shared": case.careful_shared, "careful-repeat": case.careful_repeat, "authors": case.authors}.get(variant)
            if run is None:
                raise ValueError(f"unknown variant '{variant}' (careful-shared, careful-repeat, authors)")
            start = time.perf_counter()
            run(rows, K)
            print(f"{(time.perf_counter() - start) * 1000:.3f}", flush=True)
        except Exception as e:  # the node side prints it and stops
            print(f"error {type(e).__name__}: {e}".replace("\n", " "), flush=True)


if __name__ == "__main__":
    main()
