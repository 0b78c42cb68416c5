from setuptools import find_packages, setup

VERSION = {}
with open("elmo_compress/version.py") as version_file:
    exec(version_file.read(), VERSION)

with open("README.md", encoding="utf-8") as readme:
    LONG_DESCRIPTION = readme.read()

setup(
    name="elmo_compress",
    version=VERSION["VERSION"],
    description="Low-rank (SVD, Semi-NMF) and pruning compression of ELMo's biLSTM, as an AllenNLP plugin",
    long_description=LONG_DESCRIPTION,
    long_description_content_type="text/markdown",
    packages=find_packages(include=["elmo_compress", "elmo_compress.*"]),
    # The demo biLM bundle (see elmo_compress/demo_bilm/README.md) and the demo tasks (data/demo_tasks.py).
    package_data={
        "elmo_compress": [
            "demo_bilm/*.json",
            "demo_bilm/*.hdf5",
            "demo_bilm/*.txt",
            "demo_bilm/*.md",
            "demo_tasks/*/*",
        ]
    },
    python_requires=">=3.8,<3.11",
    install_requires=[
        "allennlp==2.10.1",
        "allennlp-models==2.10.1",
        "torch>=1.10.0,<1.13.0",  # allennlp 2.10.1's own pin
        "h5py",
        "numpy<2",  # spacy 3.3's compiled thinc breaks on numpy 2
        "matplotlib",
    ],
    extras_require={"test": ["pytest"]},
    entry_points={"console_scripts": ["compress-elmo=elmo_compress.commands:main"]},
)
