# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Exploring the Parquet export
#
# `trials export` writes one zstd Parquet file per warehouse table and model into `data/exports/`,
# with a `manifest.json`. This notebook (a jupytext percent script: open it in Jupyter with
# jupytext, or run it as plain Python) reads them with polars and with duckdb, and draws two plots.

# %%
import json
import os
from pathlib import Path

import duckdb
import matplotlib

if not os.environ.get("DISPLAY") and "MPLBACKEND" not in os.environ:
    matplotlib.use("Agg")  # headless: write the figures to files
import matplotlib.pyplot as plt
import polars as pl

EXPORT_DIR = Path(os.environ.get("TRIALS_EXPORT_DIR", "data/exports"))
FIGURES_DIR = Path(os.environ.get("TRIALS_FIGURES_DIR", EXPORT_DIR / "figures"))
FIGURES_DIR.mkdir(parents=True, exist_ok=True)

manifest = json.loads((EXPORT_DIR / "manifest.json").read_text())
print(f"built {manifest['built_at']}, {len(manifest['tables'])} tables")

# %% [markdown]
# ## With polars
# Dates stay dates and lists stay lists in the Parquet files.

# %%
studies = pl.read_parquet(EXPORT_DIR / "studies.parquet")
print(studies.select("nct_id", "overall_status", "phases", "start_date", "enrollment").head())

# %% [markdown]
# ## With duckdb, straight from the files

# %%
countries = duckdb.sql(
    f"""
    select country, n_studies
    from read_parquet('{EXPORT_DIR / "country_summary.parquet"}')
    order by n_studies desc, country
    limit 15
    """
).pl()
print(countries)

# %% [markdown]
# ## Studies per country

# %%
figure, axis = plt.subplots(figsize=(8, 5))
axis.barh(countries["country"].to_list()[::-1], countries["n_studies"].to_list()[::-1])
axis.set_xlabel("studies with at least one site")
axis.set_title("Studies per country (top 15)")
figure.tight_layout()
figure.savefig(FIGURES_DIR / "studies_per_country.png", dpi=100)

# %% [markdown]
# ## Enrollment by phase

# %%
by_phase = (
    studies.filter(pl.col("enrollment").is_not_null())
    .with_columns(pl.col("phase_label").fill_null("No phase"))
    .group_by("phase_label")
    .agg(pl.col("enrollment"))
    .sort("phase_label")
)
figure, axis = plt.subplots(figsize=(9, 5))
axis.boxplot(by_phase["enrollment"].to_list(), showfliers=False)
axis.set_xticks(range(1, by_phase.height + 1), by_phase["phase_label"].to_list(), rotation=30, ha="right")
axis.set_ylabel("enrollment (participants)")
axis.set_title("Enrollment by phase")
figure.tight_layout()
figure.savefig(FIGURES_DIR / "enrollment_by_phase.png", dpi=100)
print(f"figures in {FIGURES_DIR}")
