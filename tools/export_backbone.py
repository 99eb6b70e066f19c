#!/usr/bin/env python3
"""Export a PyTorch image model as an invbench backbone (docs/backbones.md).

    python3 tools/export_backbone.py --torchvision resnet18 --out models/resnet18.onnx
    python3 tools/export_backbone.py --timm vit_small_patch16_224 --pretrained --out vit.onnx
    python3 tools/export_backbone.py --hf ./my-local-vit --out vit.onnx
    python3 tools/export_backbone.py --module mynet.py:Net --weights net.pt \\
        --size 32 32 --channels 3 --mean 0.5 0.5 0.5 --std 0.25 0.25 0.25 --out net.onnx

Picks the features output (the input of the model's last nn.Linear for torchvision models, the
pooled pre-logits output for timm and Hugging Face models, the module's own output for --module,
or any module's output with --layer NAME, its input with --layer NAME:input), exports it with a
dynamic batch axis (one float32 NCHW input "images", one output "features" [N, d]), checks the ONNX
model against PyTorch on seeded random images through invbench itself (`invbench check-backbone`:
invbench's preprocessing and onnxruntime, as in a run), prints the largest absolute difference,
and prints the matrix `backbones:` entry (layout, size, channels, mean/std from the model's
preprocessing config, output name).

Needs PyTorch >= 1.13 (Debian: python3-torch; python3-torchvision for --torchvision); timm or
transformers for those sources; the onnx package (Debian: python3-onnx) for --external-data and for
models over 2 GB. Never overwrites: the outputs must not exist. Exit 0 when the check passes, 1 when
the features differ by more than --tolerance, 2 on bad arguments or a missing package.
"""
import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


class UsageError(Exception):
    """Bad arguments or a missing package: exit 2 with the message."""


def need(module, debian):
    try:
        return __import__(module)
    except ImportError as e:
        raise UsageError(f"this needs the Python package {module} ({debian}): {e}")


def pair(values, what):
    return [int(values[0]), int(values[-1])] if values else what


# ---- sources: each returns (model, preprocessing, default features choice) -------------------


def torchvision_model(args, torch):
    tv = need("torchvision", "Debian: python3-torchvision")
    weights = None
    if args.weights_name:
        weights = tv.models.get_model_weights(args.torchvision)[args.weights_name]
    model = tv.models.get_model(args.torchvision, weights=weights)
    pre = {"size": [224, 224], "mean": IMAGENET_MEAN, "std": IMAGENET_STD, "source": "torchvision defaults"}
    if weights is not None:
        t = weights.transforms()
        crop = list(getattr(t, "crop_size", [224]))
        pre = {
            "size": pair(crop, [224, 224]),
            "mean": list(t.mean),
            "std": list(t.std),
            "source": f"{args.torchvision} {args.weights_name} transforms",
        }
    return model, pre, "last-linear-input"


def timm_model(args, torch):
    timm = need("timm", "pip install timm")
    model = timm.create_model(args.timm, pretrained=args.pretrained, num_classes=0)  # pooled pre-logits
    cfg = timm.data.resolve_data_config({}, model=model)
    _, h, w = cfg["input_size"]
    pre = {"size": [h, w], "mean": list(cfg["mean"]), "std": list(cfg["std"]), "source": "timm data config"}
    return model, pre, "output"


class HfFeatures:
    """Wraps a transformers vision model: its pooled output, else the first token, else the mean."""

    @staticmethod
    def wrap(torch, model):
        class Wrapped(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.model = model

            def forward(self, pixel_values):
                out = self.model(pixel_values=pixel_values)
                pooled = getattr(out, "pooler_output", None)
                if pooled is not None:
                    return torch.flatten(pooled, 1)
                hidden = out.last_hidden_state
                return hidden[:, 0] if hidden.dim() == 3 else torch.flatten(hidden.mean(dim=(2, 3)), 1)

        return Wrapped()


def hf_model(args, torch):
    transformers = need("transformers", "pip install transformers")
    model = transformers.AutoModel.from_pretrained(args.hf, local_files_only=not args.allow_download)
    proc = transformers.AutoImageProcessor.from_pretrained(args.hf, local_files_only=not args.allow_download)
    size = getattr(proc, "crop_size", None) or getattr(proc, "size", None) or {}
    if "height" in size:
        hw = [size["height"], size["width"]]
    elif "shortest_edge" in size:
        hw = [size["shortest_edge"], size["shortest_edge"]]
    else:
        hw = None
    pre = {"size": hw, "mean": list(proc.image_mean), "std": list(proc.image_std), "source": "image processor"}
    return HfFeatures.wrap(torch, model), pre, "output"


def module_model(args, torch):
    if ":" not in args.module:
        raise UsageError(f"--module {args.module}: expected FILE:CLASS")
    file, cls = args.module.rsplit(":", 1)
    spec = importlib.util.spec_from_file_location("user_backbone", file)
    if spec is None or not os.path.exists(file):
        raise UsageError(f"--module: no Python file {file}")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    if not hasattr(mod, cls):
        raise UsageError(f"--module: {file} has no {cls}")
    model = getattr(mod, cls)(**json.loads(args.module_args))
    return model, {"size": None, "mean": None, "std": None, "source": "--size/--mean/--std"}, "output"


def load_weights(torch, model, path):
    state = torch.load(path, map_location="cpu")
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise UsageError(f"--weights {path}: expected a state_dict (a dict of tensors)")
    model.load_state_dict(state)


# ---- which tensor is the features ---------------------------------------------------------


def features_module(torch, model, choice, layer):
    """A module whose output is the chosen features, flattened to [N, d]."""
    modules = dict(model.named_modules())
    if layer:
        name, _, where = layer.partition(":")
        if name not in modules:
            raise UsageError(f"--layer {name}: no such module; some are: {', '.join(list(modules)[1:12])}")
        target, mode = modules[name], (where or "output")
        if mode not in ("input", "output"):
            raise UsageError(f"--layer {layer}: expected NAME or NAME:input")
    elif choice == "last-linear-input":
        linears = [(n, m) for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)]
        if not linears:
            raise UsageError("the model has no nn.Linear head: choose the features with --layer NAME")
        name, target = linears[-1]
        mode = "input"
    else:
        name, target, mode = "", None, "output"

    class Features(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model
            self.caught = []
            if target is not None and mode == "input":
                target.register_forward_pre_hook(lambda _m, a: self.caught.append(a[0]))
            elif target is not None:
                target.register_forward_hook(lambda _m, _a, out: self.caught.append(out))

        def forward(self, images):
            self.caught.clear()
            out = self.model(images)
            f = self.caught[-1] if target is not None else out
            if isinstance(f, (tuple, list)):
                f = f[0]
            return torch.flatten(f, 1)

    where = f"{mode} of {name}" if target is not None else "the model's output"
    return Features(), where


# ---- export, external data, check ---------------------------------------------------------


def consolidate_external(export_dir, name):
    """Rewrites the exported model with all weights in one NAME.data file beside it."""
    onnx = need("onnx", "Debian: python3-onnx")
    path = os.path.join(export_dir, name)
    m = onnx.load(path)  # loads any per-tensor external files torch wrote
    for f in os.listdir(export_dir):
        if f != name:
            os.remove(os.path.join(export_dir, f))  # torch's per-tensor files, in our own temp dir
    onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True,
                    location=name + ".data", size_threshold=1024)
    onnx.checker.check_model(path)  # by path: checks the external data too


def entry_yaml(ident, onnx_path, layout, size, channels, mean, std, comment):
    f = lambda xs: "[" + ", ".join(f"{x:.6g}" for x in xs) + "]"
    return "\n".join([
        f"  # {comment}",
        f"  - id: {ident}",
        f"    onnx: {onnx_path}  # relative to the matrix file",
        "    output: features",
        f"    input: {{ layout: {layout}, size: [{size[0]}, {size[1]}], channels: {channels}, "
        f"mean: {f(mean)}, std: {f(std)} }}",
        "    # add resize: bilinear to the input to feed images of another size",
    ])


def find_invbench():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    deno = os.path.join(root, "node_modules", ".bin", "deno")
    if os.path.exists(deno):
        return [deno, "run", "-A", os.path.join(root, "src", "cli", "main.ts")]
    return None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--torchvision", metavar="NAME", help="a torchvision.models architecture, e.g. resnet18")
    src.add_argument("--timm", metavar="NAME", help="a timm model name")
    src.add_argument("--hf", metavar="NAME_OR_PATH", help="a Hugging Face image model (a local directory)")
    src.add_argument("--module", metavar="FILE:CLASS", help="your nn.Module class in a Python file")
    p.add_argument("--module-args", default="{}", help="JSON keyword arguments for --module's class")
    p.add_argument("--weights", metavar="FILE", help="a state_dict to load (torch.save) into the model")
    p.add_argument("--weights-name", metavar="ENUM",
                   help="torchvision pretrained weights, e.g. IMAGENET1K_V1 (downloads unless cached)")
    p.add_argument("--pretrained", action="store_true", help="timm: load the pretrained weights")
    p.add_argument("--allow-download", action="store_true", help="--hf: allow fetching from the Hub")
    p.add_argument("--layer", metavar="NAME[:input]", help="features: this module's output (or input)")
    p.add_argument("--size", nargs=2, type=int, metavar=("H", "W"), help="input size (default: the config's)")
    p.add_argument("--channels", type=int, default=3, help="input channels (default 3)")
    p.add_argument("--mean", nargs="+", type=float, help="per-channel mean (default: the config's)")
    p.add_argument("--std", nargs="+", type=float, help="per-channel std (default: the config's)")
    p.add_argument("--out", required=True, help="the ONNX file to write (must not exist)")
    p.add_argument("--id", help="the backbone id in the printed entry (default: the file's stem)")
    p.add_argument("--opset", type=int, default=14)
    p.add_argument("--external-data", action="store_true",
                   help="store the weights in OUT.data beside OUT (automatic over 2 GB; needs onnx)")
    p.add_argument("--seed", type=int, default=0, help="seeds the initial weights and the check images")
    p.add_argument("--check-images", type=int, default=8, help="random images of the check (0: no check)")
    p.add_argument("--tolerance", type=float, default=1e-4, help="largest |ONNX - PyTorch| allowed")
    p.add_argument("--check-with", metavar="NPY",
                   help="check on these images instead: float32 (n, C*H*W) or (n, H*W) pixel values in [0, 1]")
    p.add_argument("--keep-check", metavar="DIR", help="keep the check's images.npy and features.npy here")
    p.add_argument("--invbench", help="the invbench command for the check (default: this checkout's)")
    args = p.parse_args(argv)
    try:
        return export(args)
    except UsageError as e:
        print(f"export_backbone: {e}", file=sys.stderr)
        return 2


def export(args):
    torch = need("torch", "Debian: python3-torch")
    np = need("numpy", "Debian: python3-numpy")
    major, minor = (int(x) for x in torch.__version__.split(".")[:2])
    if (major, minor) < (1, 13):
        raise UsageError(f"PyTorch {torch.__version__}: needs >= 1.13")
    out = os.path.abspath(args.out)
    name = os.path.basename(out)
    for f in (out, out + ".data"):
        if os.path.exists(f):
            raise UsageError(f"{f} exists; nothing is overwritten")
    if not os.path.isdir(os.path.dirname(out)):
        raise UsageError(f"--out {args.out}: no directory {os.path.dirname(out)}")

    torch.manual_seed(args.seed)  # the initial weights of a model without --weights
    if args.torchvision:
        model, pre, choice = torchvision_model(args, torch)
    elif args.timm:
        model, pre, choice = timm_model(args, torch)
    elif args.hf:
        model, pre, choice = hf_model(args, torch)
    else:
        model, pre, choice = module_model(args, torch)
    if args.weights:
        load_weights(torch, model, args.weights)
    model.eval()
    size = args.size or pre["size"]
    mean = args.mean or pre["mean"]
    std = args.std or pre["std"]
    if size is None or mean is None or std is None:
        raise UsageError("give --size H W, --mean and --std (this source has no preprocessing config)")
    c = args.channels
    if len(mean) == 1:
        mean = mean * c
    if len(std) == 1:
        std = std * c
    if len(mean) != c or len(std) != c:
        raise UsageError(f"--mean/--std: {len(mean)}/{len(std)} values for {c} channels")
    features, where = features_module(torch, model, choice, args.layer)
    features.eval()

    dummy = torch.zeros(2, c, size[0], size[1])
    with torch.no_grad():
        d = features(dummy).shape[1]
    with tempfile.TemporaryDirectory(dir=os.path.dirname(out), prefix=".export-") as tmp:
        tmp_model = os.path.join(tmp, name)
        torch.onnx.export(features, dummy, tmp_model, input_names=["images"], output_names=["features"],
                          dynamic_axes={"images": {0: "N"}, "features": {0: "N"}},
                          opset_version=args.opset, do_constant_folding=True)
        if args.external_data or len(os.listdir(tmp)) > 1:  # torch splits a model over 2 GB
            consolidate_external(tmp, name)
        written = sorted(os.listdir(tmp))
        for f in written:
            if os.path.exists(os.path.join(os.path.dirname(out), f)):
                raise UsageError(f"{f} appeared beside {out} meanwhile; nothing is overwritten")
        for f in written:
            shutil.move(os.path.join(tmp, f), os.path.join(os.path.dirname(out), f))
    sizes = ", ".join(f"{f} ({os.path.getsize(os.path.join(os.path.dirname(out), f)) / 2**20:.1f} MiB)"
                      for f in written)
    print(f"wrote {sizes}: features = {where}, {d} per image, from {pre['source']}", file=sys.stderr)

    ident = args.id or os.path.splitext(name)[0]
    entry = {"id": ident, "onnx": out, "output": "features",
             "input": {"layout": "NCHW", "size": list(size), "channels": c, "mean": mean, "std": std}}
    status = 0
    if args.check_images > 0 or args.check_with:
        status = check(args, torch, np, features, entry)
    print(entry_yaml(ident, args.out, "NCHW", size, c, mean, std,
                     f"{ident}: {where}; mean/std from {pre['source'] if not args.mean else '--mean/--std'}"))
    return status


def check(args, torch, np, features, entry):
    """Seeded random images through PyTorch here and through invbench; prints the max abs diff."""
    c, (h, w) = entry["input"]["channels"], entry["input"]["size"]
    if args.check_with:
        pixels = torch.from_numpy(np.load(args.check_with).astype("float32"))
        if pixels.dim() != 2 or pixels.shape[1] not in (h * w, c * h * w):
            raise UsageError(f"--check-with {args.check_with}: expected (n, {c}*{h}*{w}) or (n, {h}*{w}) "
                             f"pixel values, got {tuple(pixels.shape)}")
        images = pixels.reshape(len(pixels), -1, h, w)
    else:
        g = torch.Generator().manual_seed(args.seed)
        images = torch.rand(args.check_images, c, h, w, generator=g)
    # What invbench does to grayscale images for a model taking more channels.
    model_images = images.expand(-1, c, -1, -1) if images.shape[1] == 1 else images
    mean = torch.tensor(entry["input"]["mean"]).view(1, c, 1, 1)
    std = torch.tensor(entry["input"]["std"]).view(1, c, 1, 1)
    with torch.no_grad():
        expected = features((model_images - mean) / std)
    invbench = args.invbench.split() if args.invbench else find_invbench()
    with tempfile.TemporaryDirectory(prefix="invbench-export-check-") as tmp:
        where = args.keep_check or tmp
        os.makedirs(where, exist_ok=True)
        img_path, feat_path = os.path.join(where, "images.npy"), os.path.join(where, "features.npy")
        np.save(img_path, images.reshape(len(images), -1).numpy().astype("<f4"))
        np.save(feat_path, expected.numpy().astype("<f4"))
        cmd = ["check-backbone", "--backbone", json.dumps(entry), "--images", img_path,
               "--features", feat_path, "--tolerance", str(args.tolerance)]
        if invbench is None:
            print("no invbench checkout found beside this script: the ONNX model was not checked; run\n  "
                  + " ".join(["invbench", *cmd[:2], f"'{cmd[2]}'", *cmd[3:]]), file=sys.stderr)
            return 1
        r = subprocess.run([*invbench, *cmd], capture_output=True, text=True)
    sys.stderr.write(r.stdout + r.stderr)
    if float(expected.abs().max()) < 1e-3:
        print("warning: the features are all near 0 (initialised weights?): an absolute check says little",
              file=sys.stderr)
    if r.returncode == 2:
        raise UsageError("invbench refused the exported model (above)")
    return 0 if r.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
