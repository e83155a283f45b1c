"""python -m helpers.loop: lesson 7's hand-written training loop as one command, with the same options as helpers.train.

The loop is the very code of lesson 7's cells (`accelerate_loop`, exported into helpers/recipe.py). Accelerate runs it
unchanged on one device, under `accelerate launch --num_processes N` and under `torchrun --nproc_per_node=N`; only the
main process writes the run folder. Unlike the Trainer, it saves no checkpoints on the way, so there is no --resume.
"""

import sys

from helpers.errors import CourseError


def run(args) -> None:
    """Check the options and the run folder, then train with the loop and save (command line)."""
    from helpers.recipe import accelerate_loop
    from helpers.train import check_folder, settings_from

    if args.resume:
        raise CourseError("The loop of lesson 7 saves no checkpoints, so it cannot resume: run it again, "
                          "or use python -m helpers.train, which can.")
    settings = settings_from(args).resolved()
    if args.output_dir:
        check_folder(args.output_dir, settings, resume=False)
    accelerate_loop(settings, run_dir=args.output_dir)


def main(argv=None) -> int:
    from helpers.train import handled, parse

    args = parse(argv, prog="python -m helpers.loop", description=__doc__.splitlines()[0])
    return handled(run, args, lambda: "Interrupted: the loop keeps no checkpoints, so its run folder holds no model; "
                                      "run the command again.")


if __name__ == "__main__":
    sys.exit(main())
