"""
The text a trained task model was trained on, as sentences: for `distill` and `shrink`, whose natural
unlabeled text, when the ELMo being compressed serves a task, is that task's own training text.

The archive's `config.json` says where the training data is (`train_data_path`) and how to read it
(`dataset_reader`); every `TextField` of every instance is one sentence (SNLI: premise and hypothesis;
CoNLL-2003 and SST: the sentence). Only the config is read: the model (and the ELMo files its config
names) is not built.
"""

import json
import tarfile
from typing import List, Optional

from allennlp.common import Params
from allennlp.data import DatasetReader
from allennlp.data.fields import TextField
from allennlp.models.archival import CONFIG_NAME

from elmo_compress.data import Sentences, read_corpus, within_length
from elmo_compress.data.stdlib_corpus import default_split
from elmo_compress.downstream.archive import ArchiveError, prepare_archive_types
from elmo_compress.errors import first_line


def task_sentences(archive_file: str) -> Sentences:
    """
    The tokens of every text field of the training data of the allennlp archive `archive_file`, read by
    the archive's own dataset reader, in order; sentences outside 1..100 tokens are left out, as
    `read_corpus` leaves them out. A missing or unreadable archive or training file is one error line.
    """
    prepare_archive_types(archive_file)
    config = archive_config(archive_file)
    train_data_path = config.get("train_data_path", None)
    if not train_data_path:
        raise ArchiveError(f"archive {archive_file} has no train_data_path in its config")
    try:
        reader = DatasetReader.from_params(config.pop("dataset_reader"))
        instances = list(reader.read(train_data_path))
    except Exception as error:  # the reader's own errors: a file gone, a format it cannot parse
        raise ArchiveError(
            f"cannot read the training data {train_data_path} of archive {archive_file}: {first_line(error)}"
        ) from None
    sentences = [
        [token.text for token in field.tokens]
        for instance in instances
        for field in instance.fields.values()
        if isinstance(field, TextField)
    ]
    kept = within_length(sentences)
    if not kept:
        raise ArchiveError(
            f"the training data {train_data_path} of archive {archive_file} has no text field of 1 to 100 tokens "
            f"({len(instances)} instances)"
        )
    return kept


def archive_config(archive_file: str) -> Params:
    """The `config.json` of an allennlp archive, read from the tar file alone (no other member extracted)."""
    try:
        with tarfile.open(archive_file, "r:gz") as archive:
            member = archive.extractfile(CONFIG_NAME)
            if member is None:
                raise KeyError(f"{CONFIG_NAME} is not a file")
            return Params(json.loads(member.read().decode("utf-8")))
    except (OSError, tarfile.TarError, KeyError, UnicodeDecodeError, ValueError) as error:
        raise ArchiveError(f"cannot read the config of archive {archive_file}: {first_line(error)}") from None


def read_text(text_file: Optional[str] = None, task_archive: Optional[str] = None) -> List[List[str]]:
    """
    The unlabeled text of `distill` and `shrink`: `text_file` (one sentence per line), or the training
    text of `task_archive`, or (neither given) the embedded corpus's training split.
    """
    if text_file is not None and task_archive is not None:
        raise ArchiveError("give the text as --text or as --task-archive, not both")
    if task_archive is not None:
        return task_sentences(task_archive)
    return read_corpus(text_file) if text_file else default_split()[0]
