"""cmake --install and CPack: the installed partrace records with the installed libpartrace.so,
answers --version and --help, and every command has a man page that man renders; the bash and
zsh completions are in their places; the .tar.gz holds the same tree."""
import os
import shutil
import subprocess
import tarfile

from harness import BUILD, DRIVER, FAKE_NCCL_DIR, TraceTest, main, nccl, events

COMMANDS = ["record", "info", "dump", "report", "diff", "compare", "whatif", "export", "check", "help"]


class Install(TraceTest):
    def test_install_tree_works(self):
        prefix = os.path.join(self.tmp, "prefix")
        subprocess.run(["cmake", "--install", BUILD, "--prefix", prefix], check=True, capture_output=True)
        pt = os.path.join(prefix, "bin", "partrace")
        self.assertTrue(os.path.isfile(os.path.join(prefix, "lib", "libpartrace.so")))
        version = subprocess.run([pt, "--version"], capture_output=True, text=True, check=True).stdout
        self.assertTrue(version.startswith("partrace "), version)
        env = dict(os.environ, LD_LIBRARY_PATH=FAKE_NCCL_DIR)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=0:verify_asan_link_order=0")
        env.pop("PARTRACE_LIB", None)
        run = os.path.join(self.tmp, "run")
        proc = subprocess.run([pt, "record", "-o", run, "--", DRIVER, "--iters", "2"], capture_output=True,
                              text=True, env=env, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(len(nccl(events(run))), 2 * 14 + 2)
        man = os.path.join(prefix, "share", "man", "man1")
        self.assertEqual(sorted(os.listdir(man)), sorted(["partrace.1"] + [f"partrace-{c}.1" for c in COMMANDS]))
        if shutil.which("man"):
            for page in os.listdir(man):
                shown = subprocess.run(["man", "-l", os.path.join(man, page)], capture_output=True, text=True,
                                       env=dict(os.environ, MANPAGER="cat", PAGER="cat", MANWIDTH="100"))
                self.assertEqual(shown.returncode, 0, page)
                self.assertIn("partrace", shown.stdout, page)
        self.assertTrue(os.path.isfile(os.path.join(prefix, "share", "bash-completion", "completions", "partrace")))
        self.assertTrue(os.path.isfile(os.path.join(prefix, "share", "zsh", "site-functions", "_partrace")))
        self.assertTrue(os.path.isfile(os.path.join(prefix, "share", "doc", "partrace", "WHATIF.md")))

    def test_cpack_tarball(self):
        if not shutil.which("cpack"):
            self.skipTest("no cpack")
        out = os.path.join(self.tmp, "pkg")
        os.makedirs(out)
        subprocess.run(["cpack", "-G", "TGZ", "-B", out, "--config", os.path.join(BUILD, "CPackConfig.cmake")],
                       check=True, capture_output=True, timeout=300)
        (tgz,) = [f for f in os.listdir(out) if f.endswith(".tar.gz")]
        with tarfile.open(os.path.join(out, tgz)) as t:
            names = t.getnames()
        for want in ("bin/partrace", "lib/libpartrace.so", "share/man/man1/partrace-report.1"):
            self.assertTrue(any(n.endswith(want) for n in names), want)


if __name__ == "__main__":
    main()
