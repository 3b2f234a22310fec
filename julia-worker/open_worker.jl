# The OPEN Julia worker (protocol: docs/protocol.md).
#
#   julia [--threads=2] open_worker.jl --allow MODULE [--allow MODULE ...] [--max-frame BYTES]
#         [--allow-attribute-paths] [--shm-dir DIR [--shm-threshold BYTES]]
#
# The host sets JULIA_LOAD_PATH so that the allowed task modules can be found (directories
# holding `MyTasks.jl` files, or packages, plus `@stdlib`); the worker drops load-path entries
# that depend on the working directory (`@.`, relative paths). The host should give Julia a
# second thread (--threads=2 or JULIA_NUM_THREADS=2) so that pings are answered while a call
# computes. See README.md.

include(joinpath(@__DIR__, "src", "OpenWorker.jl"))

exit(OpenWorker.main(copy(ARGS)))
