#!/usr/bin/python3
"""PyTorch peer for bench/native.bench.ts: the same bases, sizes and steps, timed the same way.

Usage: /usr/bin/python3 bench/pytorch_peer.py MODEL SIZE BATCH ITERS [THREADS]
MODEL is vgg16 | resnet50 | inceptionV3; THREADS defaults to every core (PyTorch itself would
pick its count of physical cores, 1 on some VMs). Prints one JSON line:
{"model", "size", "batch", "threads", "torch", "blas", "forward_img_s", "train_img_s"}, each
throughput from the fastest of ITERS timed batches (after one warm-up).

Like the tfjs side: no pretrained weights (speed does not depend on them), a new head
(global average pooling + Dense(10)), every layer frozen except the top block
(VGG16 block5, ResNet50 conv5_block3, InceptionV3 mixed9+mixed10); frozen BatchNorms run in
inference mode (Keras semantics); one SGD step per training iteration.
"""
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torchvision

CLASSES = 10


def build(name):
    if name == 'vgg16':
        base = torchvision.models.vgg16(weights=None).features
        model = nn.Sequential(base, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, CLASSES))
        top = [base[i] for i in range(24, len(base))]  # block5_conv1..block5_pool
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
    """Seconds of the fastest of n runs (the one least disturbed by other processes)."""
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


def main():
    if len(sys.argv) not in (5, 6):
        raise SystemExit('usage: pytorch_peer.py MODEL SIZE BATCH ITERS [THREADS]')
    name, size, batch, iters = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(int(sys.argv[5]) if len(sys.argv) == 6 else os.cpu_count())
    torch.manual_seed(0)
    model, trainable = build(name)
    x = torch.randn(batch, 3, size, size)
    y = torch.randint(0, CLASSES, (batch,))

    model.eval()
    with torch.no_grad():
        model(x)  # warm-up: oneDNN primitive creation
        fwd = batch / best(iters, lambda: model(x))

    for p in model.parameters():
        p.requires_grad_(False)
    params = {}
    for m in trainable:
        m.train()  # only the unfrozen block uses batch statistics
        for p in m.parameters():
            p.requires_grad_(True)
            params[id(p)] = p
    params = list(params.values())
    opt = torch.optim.SGD(params, lr=0.01)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    step()  # warm-up
    train = batch / best(iters, step)
    print(json.dumps({'model': name, 'size': size, 'batch': batch, 'threads': torch.get_num_threads(),
                      'torch': torch.__version__, 'blas': blas(), 'forward_img_s': fwd, 'train_img_s': train}))


if __name__ == '__main__':
    main()
