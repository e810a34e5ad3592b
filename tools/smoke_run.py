# Copyright (c) off_plugin authors. All rights reserved.
"""Smoke run of the OFF unit on an embedded motion task (no download).

Clips of a bright square that moves left or right; where it starts and how
bright it is are random, so the class is in the motion alone. Two equally
small classifiers train for the same number of steps on the same clips:

- "average": a conv net on the frames averaged over time (what TSN's
  segment consensus leaves of appearance features);
- "OFF": the same conv net on the OFF unit's output for adjacent frames.

It prints the held-out accuracy of both; OFF should be near 1.0 and the
average near chance (0.5). Takes well under a minute on CPU.
"""
import argparse

import torch
import torch.nn as nn

import off_plugin  # noqa: F401
from off_plugin.models import OFFUnit


def moving_squares(num: int, frames: int = 4, size: int = 20,
                   generator: torch.Generator = None):
    """(num, frames, 1, size, size) clips and their labels (0: left,
    1: right); the square moves 1 pixel a frame."""
    labels = torch.randint(0, 2, (num, ), generator=generator)
    clips = torch.zeros(num, frames, 1, size, size)
    span = size - 4 - frames
    for i, label in enumerate(labels.tolist()):
        x = int(torch.randint(0, span, (1, ), generator=generator)) + frames
        y = int(torch.randint(0, size - 4, (1, ), generator=generator))
        value = 0.5 + float(torch.rand(1, generator=generator))
        step = 1 if label else -1
        for t in range(frames):
            clips[i, t, 0, y:y + 4, x + step * t:x + step * t + 4] = value
    return clips, labels


def classifier(in_channels: int) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(in_channels, 16, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 2))


class AverageNet(nn.Module):

    def __init__(self):
        super().__init__()
        self.head = classifier(1)

    def forward(self, clips):
        return self.head(clips.mean(dim=1))


class OFFNet(nn.Module):

    def __init__(self):
        super().__init__()
        self.off = OFFUnit(in_channels=1, reduce_channels=4)
        self.head = classifier(self.off.out_channels)

    def forward(self, clips):
        return self.head(self.off(clips).mean(dim=1))


def train_and_test(model, train, test, steps, batch_size=32):
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    clips, labels = train
    generator = torch.Generator().manual_seed(1)
    for _ in range(steps):
        idx = torch.randint(0, len(labels), (batch_size, ),
                            generator=generator)
        loss = nn.functional.cross_entropy(model(clips[idx]), labels[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        return float((model(test[0]).argmax(1) == test[1]).float().mean())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--steps', type=int, default=300)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    train = moving_squares(512, generator=generator)
    test = moving_squares(256, generator=generator)
    results = {
        name: train_and_test(net(), train, test, args.steps)
        for name, net in (('average', AverageNet), ('OFF', OFFNet))
    }
    print(f'held-out accuracy after {args.steps} steps '
          f'(chance 0.50): temporal average {results["average"]:.2f}, '
          f'OFF {results["OFF"]:.2f}')


if __name__ == '__main__':
    main()
