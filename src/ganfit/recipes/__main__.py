"""python -m ganfit.recipes: (re)write the recipe files from RECIPES."""

from . import HERE, names, write_all

write_all()
print(f"wrote {', '.join(names())} in {HERE}")
