#!/usr/bin/python3
"""PyTorch peer for bench/native.bench.ts: the same models and steps in PyTorch's fastest CPU setup.

Usage: /usr/bin/python3 bench/pytorch_peer.py MODE MODEL SIZE BATCH ITERS THREADS [SAMPLES] [--optimizer sgd|adam]
  MODE forward: model.eval() under torch.inference_mode();
       top:     one optimizer step, every layer frozen except the top block (VGG16 block5, ResNet50
                conv5_block3, InceptionV3 mixed9+mixed10) and the head; frozen BatchNorms in
                inference mode (Keras semantics);
       full:    one optimizer step, every layer trainable (BatchNorms use batch statistics);
       tune:    notebook 03's fine-tuning step (vgg16 only): blocks 4 and 5 and the head trainable;
       head:    one epoch of SAMPLES cached features (MODEL's feature width, SIZE) through the
                ResNet50 Stanford Cars head: BN -> Dense(512, relu) -> Dropout(0.6) ->
                Dense(196, softmax), L2 5e-4 on both Dense kernels, Adam(1e-4), batch BATCH.
  MODEL vgg16 | resnet50 | inceptionV3 (a new head: global average pooling + Dense(10)).
  --optimizer (top, full): sgd (the default; torch.optim.SGD, lr 0.01) or adam (torch.optim.Adam,
       lr 1e-4, eps 1e-7: Keras' defaults, what the notebooks train with; PyTorch's default foreach
       implementation in 1.13).
Each image configuration is timed in both memory formats (NCHW and channels_last), oneDNN
(mkldnn) on; the fastest wins. Throughputs come from the fastest of ITERS timed runs after one
warm-up. Prints one JSON line: {"mode", "model", "optimizer", "size", "batch", "threads", "torch", "blas",
"img_s" (the winner's), "config" (its name), "configs" {name: img_s}, "cpu_s" (this process's CPU
seconds, for the bench's load accounting)}.
"""
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torchvision

CLASSES = 10


def build(name, mode='top'):
    if name == 'vgg16':
        base = torchvision.models.vgg16(weights=None).features
        model = nn.Sequential(base, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, CLASSES))
        first = 17 if mode == 'tune' else 24  # block4_conv1 (tune) or block5_conv1 (top)
        top = [base[i] for i in range(first, len(base))]
    elif name == 'resnet50':
        model = torchvision.models.resnet50(weights=None)
        model.fc = nn.Linear(2048, CLASSES)
        top = [model.layer4[2], model.fc]  # conv5_block3
    elif name == 'inceptionV3':
        model = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False)
        model.fc = nn.Linear(2048, CLASSES)
        top = [model.Mixed_7b, model.Mixed_7c, model.fc]  # mixed9, mixed10
    else:
        raise SystemExit(f'pytorch_peer.py: unknown model {name!r} (vgg16 | resnet50 | inceptionV3)')
    head = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    return model, top + [head]  # a module listed twice is harmless (parameters are deduplicated)


def best(n, f):
    """Seconds of the fastest of n runs (the one least disturbed by other processes), after a warm-up."""
    f()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def blas():
    """Which BLAS torch's non-oneDNN convolutions (1x1 in 1.13) run on: it matters ~10x."""
    try:
        with open('/proc/self/maps') as maps:
            libs = {line.split()[-1] for line in maps if 'blas' in line}
        return ', '.join(sorted(os.path.basename(os.path.dirname(p)) + '/' + os.path.basename(p) for p in libs)) or 'none'
    except OSError:
        return 'unknown'


# The top and full rows' optimizers, with the settings the bench's side uses.
OPTIMIZERS = {
    'sgd': lambda params: torch.optim.SGD(params, lr=0.01),
    'adam': lambda params: torch.optim.Adam(params, lr=1e-4, eps=1e-7),
}


def image_config(mode, name, size, batch, iters, fmt, optimizer='sgd'):
    """Images per second of one configuration (fmt: torch.contiguous_format or torch.channels_last)."""
    torch.manual_seed(0)
    model, trainable = build(name, mode)
    x = torch.randn(batch, 3, size, size)
    model = model.to(memory_format=fmt)
    x = x.contiguous(memory_format=fmt)
    if mode == 'forward':
        model.eval()
        with torch.inference_mode():
            return batch / best(iters, lambda: model(x))
    y = torch.randint(0, CLASSES, (batch,))
    if mode in ('top', 'tune'):
        model.eval()  # frozen BatchNorms: inference mode
        for p in model.parameters():
            p.requires_grad_(False)
        params = {}
        for m in trainable:
            m.train()  # only the unfrozen block uses batch statistics
            for p in m.parameters():
                p.requires_grad_(True)
                params[id(p)] = p
        params = list(params.values())
    else:
        model.train()
        params = list(model.parameters())
    opt = OPTIMIZERS[optimizer](params)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        opt.step()

    return batch / best(iters, step)


def head_epoch(features, batch, iters, samples):
    """Samples per second of one epoch of the ResNet50 Stanford Cars head on cached features."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.BatchNorm1d(features, eps=1e-3, momentum=0.01), nn.Linear(features, 512), nn.ReLU(),
                          nn.Dropout(0.6), nn.Linear(512, 196), nn.Softmax(dim=1))
    dense = [m for m in model if isinstance(m, nn.Linear)]
    xs = torch.randn(samples, features)
    ys = torch.randint(0, 196, (samples,))
    opt = torch.optim.Adam(model.parameters(), lr=1e-4, eps=1e-7)
    model.train()

    def epoch():
        for i in range(0, samples, batch):
            opt.zero_grad(set_to_none=True)
            p = model(xs[i:i + batch]).clamp(1e-7, 1 - 1e-7)  # Keras: cross-entropy on probabilities
            loss = nn.functional.nll_loss(p.log(), ys[i:i + batch])
            loss = loss + 5e-4 * sum((m.weight ** 2).sum() for m in dense)
            loss.backward()
            opt.step()

    return samples / best(iters, epoch)


def main():
    args = sys.argv[1:]
    optimizer = 'sgd'
    if '--optimizer' in args:
        at = args.index('--optimizer')
        if at + 1 >= len(args) or args[at + 1] not in OPTIMIZERS:
            raise SystemExit(f'pytorch_peer.py: --optimizer takes one of {", ".join(OPTIMIZERS)}')
        optimizer = args[at + 1]
        del args[at:at + 2]
    if len(args) not in (6, 7):
        raise SystemExit('usage: pytorch_peer.py forward|top|full|tune|head MODEL SIZE BATCH ITERS THREADS [SAMPLES] '
                         '[--optimizer sgd|adam]')
    mode, name = args[0], args[1]
    size, batch, iters, threads = (int(a) for a in args[2:6])
    torch.set_num_threads(threads)
    torch.backends.mkldnn.enabled = True
    if mode == 'head':
        configs = {'default': head_epoch(size, batch, iters, int(args[6]) if len(args) == 7 else 1024)}
    elif mode in ('forward', 'top', 'full', 'tune'):
        configs = {label: image_config(mode, name, size, batch, iters, fmt, optimizer)
                   for label, fmt in (('NCHW', torch.contiguous_format), ('channels_last', torch.channels_last))}
    else:
        raise SystemExit(f'pytorch_peer.py: unknown mode {mode!r} (forward | top | full | tune | head)')
    winner = max(configs, key=configs.get)
    if mode == 'forward':
        winner_name = f'{winner}, inference_mode'
    else:
        winner_name = winner
    print(json.dumps({'mode': mode, 'model': name, 'optimizer': optimizer if mode in ('top', 'full', 'tune') else None, 'size': size, 'batch': batch, 'threads': torch.get_num_threads(),
                      'torch': torch.__version__, 'blas': blas(), 'img_s': configs[winner], 'config': winner_name,
                      'configs': configs, 'cpu_s': time.process_time()}))


if __name__ == '__main__':
    main()
