"""A second host on this machine: a network namespace joined to this one by a veth
pair, whose link the test can cut and heal. Needs root and iproute2."""
import os
import shutil
import subprocess


def available():
    """None if namespaces can be made here, else why not."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "iproute2's `ip` is not installed"
    return None


class Namespace:
    def __init__(self, tag):
        n = os.getpid() % 200 + 20
        self.name = f"jc{os.getpid()}{tag}"
        self.outer, self.inner = f"jc{os.getpid()}{tag}o", f"jc{os.getpid()}{tag}i"
        self.network = f"10.231.{n}.0/24"
        self.outer_address, self.inner_address = f"10.231.{n}.1", f"10.231.{n}.2"
        ip("netns", "add", self.name)
        try:
            ip("link", "add", self.outer, "type", "veth", "peer", "name", self.inner)
            ip("link", "set", self.inner, "netns", self.name)
            ip("addr", "add", f"{self.outer_address}/24", "dev", self.outer)
            ip("link", "set", self.outer, "up")
            for args in (("addr", "add", f"{self.inner_address}/24", "dev", self.inner),
                         ("link", "set", self.inner, "up"), ("link", "set", "lo", "up")):
                ip("netns", "exec", self.name, "ip", *args)
        except BaseException:
            self.close()
            raise

    @property
    def wrap(self):
        """The prefix that runs a command inside (`ip netns exec` execs it: same pid)."""
        return ("ip", "netns", "exec", self.name)

    def cut(self):
        """Packets between the host and this one are lost from now on, silently."""
        ip("link", "set", self.outer, "down")

    def heal(self):
        ip("link", "set", self.outer, "up")

    def close(self):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
        subprocess.run(["ip", "link", "del", self.outer], capture_output=True)


def ip(*args):
    done = subprocess.run(["ip", *args], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
