// Loads PLUGIN, runs it on a thread of its own, unloads it while that
// thread still lives, then lets the thread exit: a crash there means the
// runtime inside the plugin left a destructor or threads behind in code
// that dlclose unmapped.
#include <dlfcn.h>

#include <cstdio>
#include <thread>

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s PLUGIN\n", argv[0]);
    return 2;
  }
  int status = 1;
  std::thread worker([&] {
    void *plugin = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!plugin) {
      std::fprintf(stderr, "plugin_host: %s\n", dlerror());
      return;
    }
    auto run = reinterpret_cast<int (*)(float *)>(
        dlsym(plugin, "run_tiny_plugin"));
    float checksum = 0;
    if (run && run(&checksum) == 0) {
      std::printf("plugin_host: tiny ran, checksum %.6f\n", checksum);
      status = 0;
    }
    dlclose(plugin);
  });
  worker.join();
  std::printf("plugin_host: the thread exited after dlclose\n");
  return status;
}
