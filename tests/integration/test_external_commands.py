"""Every external command the tests and benchmarks call comes from a Debian package that
tools/bootstrap-deps.sh installs by name, so a fresh machine has it (nothing installed by hand,
nothing the base image happens to carry).

The commands are collected from the sources: Python `subprocess` calls and `shutil.which`
(tests/, tools/bench/), the shell scripts the tests and benchmarks run, and node scripts'
`child_process` calls and browser `executablePath`s. Each is mapped to its package with
`dpkg -S` at test time. Commands shipped inside the repository (build/bin, tools/) are skipped.
"""
import ast
import os
import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(os.environ.get("PLATFORM_SOURCE_DIR") or Path(__file__).resolve().parents[2])
PY_DIRS = [ROOT / "tests", ROOT / "tools" / "bench"]
SHELL_SCRIPTS = [ROOT / "tools" / "run-all", ROOT / "tools" / "run-fuzz", ROOT / "deploy" / "docker" / "healthcheck.sh"]
NODE_DIRS = [ROOT / "tests", ROOT / "tools" / "bench"]
SUBPROCESS_CALLS = {"run", "Popen", "call", "check_call", "check_output"}
# Node.js may come from the machine (a build that bundles npm) or from Debian: the bootstrap
# adds these packages whenever the command is missing.
CONDITIONAL = {"node": "nodejs", "npm": "npm", "npx": "npm"}
SHELL_WORDS = set("""
if then else elif fi for while until do done case esac in function select time
break continue return exit export local declare readonly unset shift set trap wait eval exec
cd pwd echo printf read test [ [[ ]] ] true false : . source command type hash builtin let
getopts umask ulimit alias jobs fg bg kill disown
""".split())


def bootstrap_packages():
    out = subprocess.run(["bash", str(ROOT / "tools" / "bootstrap-deps.sh"), "--print-packages"],
                         capture_output=True, text=True, timeout=30, check=True)
    return set(out.stdout.split())


def with_hard_dependencies(packages):
    """The listed packages and what they Depend or Pre-Depend on (installed with them)."""
    out = subprocess.run(["dpkg-query", "-W", "-f=${Package}\t${Pre-Depends}, ${Depends}\n", *sorted(packages)],
                         capture_output=True, text=True)
    closed = set(packages)
    for line in out.stdout.splitlines():
        _, _, deps = line.partition("\t")
        for dep in deps.split(","):
            name = dep.split("|")[0].split("(")[0].split(":")[0].strip()
            if name and "|" not in dep:
                closed.add(name)
    return closed


# ----------------------------------------------------------------------------- collectors

def python_files():
    for base in PY_DIRS:
        yield from sorted(p for p in base.rglob("*.py") if "node_modules" not in p.parts)


def first_word(node, lists):
    """The command a subprocess argument starts with: a list literal's first string, a name
    bound to such a list in the same file, `cmd + [...]`, or a shell string's first word."""
    if isinstance(node, ast.List) and node.elts:
        head = node.elts[0]
        if isinstance(head, ast.Constant) and isinstance(head.value, str):
            return {head.value}
        return set()
    if isinstance(node, ast.Name):
        return lists.get(node.id, set())
    if isinstance(node, ast.BinOp):
        return first_word(node.left, lists)
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.split():
        return {node.value.split()[0]}
    return set()


def python_commands(path):
    tree = ast.parse(path.read_text(), str(path))
    lists = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, (ast.List, ast.BinOp)):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    lists.setdefault(target.id, set()).update(first_word(node.value, {}))
    found = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        owner = node.func.value
        owner = owner.id if isinstance(owner, ast.Name) else ""
        name = node.func.attr
        if owner == "subprocess" and name in SUBPROCESS_CALLS and node.args:
            found |= first_word(node.args[0], lists)
        elif (owner, name) == ("shutil", "which") and node.args:
            found |= first_word(ast.List(elts=[node.args[0]]), {})
        elif owner == "os" and name.startswith("exec") and node.args:
            found |= first_word(ast.List(elts=[node.args[0]]), {})
    return found


def strip_shell_quotes(text):
    """Drops comments and quoted text, keeping the commands of $(...) written inside quotes."""
    subs = re.findall(r"\$\(([^()]*)\)", text)
    out, quote, i = [], None, 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\" and quote == '"':
                i += 1
            elif c == quote:
                quote = None
                out.append("Q")
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or text[i - 1] in " \t\n;"):
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out) + "\n" + "\n".join(subs)


def shell_commands(path):
    text = strip_shell_quotes(path.read_text().replace("\\\n", " "))
    text = re.sub(r"\b[A-Za-z_]\w*\+?=\([^)]*\)", " ", text)  # array assignments
    text = re.sub(r"<<-?\s*\w+\n.*?\n\w+\n", "\n", text, flags=re.S)  # here-documents
    functions = set(re.findall(r"(?m)^\s*([A-Za-z_][\w-]*)\s*\(\)", text))
    found = set()
    for segment in re.split(r"\$\(|[;|&(){}`\n]|\bthen\b|\bdo\b|\belse\b", text):
        words = segment.split()
        while words and (re.match(r"^[A-Za-z_]\w*(\[[^]]*\])?\+?=", words[0]) or
                         words[0] in ("!", "if", "elif", "while", "until", "time", "exec", "nohup", "sudo", "env")):
            words.pop(0)
        if words and words[0] == "timeout":
            words = [w for w in words[1:] if not re.match(r"^-|^\d", w)]
        if words and words[0] == "xargs":
            found.add("xargs")
            words = [w for w in words[1:] if not w.startswith("-")]
        if not words:
            continue
        word = words[0]
        if word in SHELL_WORDS or word in functions or word.startswith(("$", "Q", "-", "<", ">", "*")):
            continue
        if "/" in word and not word.startswith("/"):
            continue  # a script or binary of the repository, relative to it
        if re.match(r"^[A-Za-z0-9_.+/-]+$", word) and not word.isdigit() and not word.endswith(")"):
            found.add(word)
    return found


def node_commands(path):
    text = path.read_text()
    found = set(re.findall(r"executablePath:\s*[\"']([^\"']+)[\"']", text))
    if "child_process" in text:
        for m in re.finditer(r"\b(?:spawn|spawnSync|execFile|execFileSync|exec|execSync)\(\s*[\"'`]([^\"'`\s]+)", text):
            found.add(m.group(1))
    return found


def collected_commands():
    """{command: [files calling it]}"""
    found = {}
    sources = [(p, python_commands) for p in python_files()]
    sources += [(p, shell_commands) for p in SHELL_SCRIPTS]
    sources += [(p, shell_commands) for base in (ROOT / "tests", ROOT / "tools" / "bench") for p in sorted(base.rglob("*.sh"))]
    sources += [(p, node_commands) for base in NODE_DIRS for p in sorted(base.rglob("*.[cm]js")) + sorted(base.rglob("*.js"))
                if "node_modules" not in p.parts]
    for path, collect in sources:
        for cmd in collect(path):
            found.setdefault(cmd, []).append(str(path.relative_to(ROOT)))
    return found


# ----------------------------------------------------------------------------- packages

def candidates(path):
    """PATH as dpkg may have recorded it: itself, its target, and the /bin <-> /usr/bin twins."""
    out = [path, os.path.realpath(path)]
    for p in list(out):
        if p.startswith(("/usr/bin/", "/usr/sbin/")):
            out.append(p[len("/usr"):])
        elif p.startswith(("/bin/", "/sbin/")):
            out.append("/usr" + p)
    return out


def owning_packages(paths):
    """{path: Debian package or None}, with one dpkg -S for all of them."""
    wanted = {c for p in paths for c in candidates(p)}
    out = subprocess.run(["dpkg", "-S", *sorted(wanted)], capture_output=True, text=True)
    owner = {}
    for line in out.stdout.splitlines():
        pkgs, _, owned = line.rpartition(": ")
        if owned in wanted and not pkgs.startswith("diversion"):
            owner.setdefault(owned, pkgs.split(",")[0].split(":")[0].strip())
    return {p: next((owner[c] for c in candidates(p) if c in owner), None) for p in paths}


def test_the_collectors_find_the_commands_known_to_be_called():
    found = collected_commands()
    # One of each kind of source, so that a collector that stops finding anything fails here.
    # subprocess lists, a name bound to a list (wrk), shutil.which, shell scripts (flock in
    # tools/run-all), node's executablePath.
    for cmd in ("argon2", "openssl", "ssh-keygen", "wrk", "systemd-analyze", "flock", "curl", "/usr/bin/chromium"):
        assert cmd in found, f"{cmd} not collected; collected: {sorted(found)}"


def on_path(cmd):
    """Every place CMD resolves to: an absolute path, or each PATH entry holding it (a machine
    may put its own build, e.g. a pyenv shim, before Debian's)."""
    if cmd.startswith("/"):
        return [cmd] if os.path.exists(cmd) else []
    hits = []
    for d in os.environ.get("PATH", "").split(os.pathsep):
        p = os.path.join(d or ".", cmd)
        if os.path.isfile(p) and os.access(p, os.X_OK) and p not in hits:
            hits.append(p)
    return hits


def test_every_external_command_comes_from_a_package_the_bootstrap_installs():
    listed = bootstrap_packages()
    assert {"argon2", "openssl", "openssh-client", "git", "systemd", "procps", "iproute2"} <= listed
    installed = with_hard_dependencies(listed)
    problems = []
    commands = collected_commands()
    owner = owning_packages([p for cmd in commands for p in on_path(cmd)])
    for cmd, files in sorted(commands.items()):
        where = ", ".join(sorted(set(files)))
        paths = on_path(cmd)
        if not paths:
            problems.append(f"{cmd}: not installed on this machine (called in {where})")
            continue
        if any(Path(os.path.realpath(p)).is_relative_to(ROOT) for p in paths):
            continue  # shipped or unpacked inside the repository (tools/kube, build/bin)
        name = os.path.basename(cmd)
        if name in CONDITIONAL and CONDITIONAL[name] in listed:
            continue
        owners = [owner[p] for p in paths]
        if not any(pkg in installed for pkg in owners if pkg):
            found = ", ".join(f"{p} ({pkg or 'no Debian package'})" for p, pkg in zip(paths, owners))
            problems.append(f"{cmd}: {found}: not a package tools/bootstrap-deps.sh installs (called in {where})")
    assert not problems, "commands a fresh machine would lack:\n  " + "\n  ".join(problems)
