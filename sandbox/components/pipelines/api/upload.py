"""Pipeline packages uploaded to ``/pipelines/upload`` and ``/pipelines/upload_version``.

kfp.Client posts the package as ``multipart/form-data`` with one file field,
``uploadfile``; everything else (name, description, pipeline id) travels in
the query string. The package is what the compiler wrote — YAML (or JSON) —
or an archive holding it: ``.tar.gz``/``.tgz`` or ``.zip`` with
``pipeline.yaml`` or a single ``.yaml`` file, as KFP accepts.

The multipart body is parsed with the standard library's MIME parser (the
sandbox has no multipart dependency, and an upload is one small part). The
result is the package's text; :func:`~sandbox.components.pipelines.graph.load_ir`
reads the pipeline spec and platform spec from it. Bodies above
:data:`MAX_UPLOAD_BYTES` (KFP's own limit, 32 MiB) are refused.
"""

from __future__ import annotations

import email.parser
import email.policy
import io
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

from sandbox.components.pipelines.api.errors import InvalidArgument

__all__ = ["MAX_UPLOAD_BYTES", "UploadedFile", "package_text", "uploaded_file"]

MAX_UPLOAD_BYTES = 32 << 20
FIELD = "uploadfile"


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    content: bytes

    @property
    def stem(self) -> str:
        """The file name without its package extension (a default pipeline name)."""
        name = PurePosixPath(self.filename).name
        for suffix in (".tar.gz", ".tgz", ".zip", ".yaml", ".yml", ".json"):
            if name.endswith(suffix):
                return name[: -len(suffix)]
        return name


def uploaded_file(body: bytes, content_type: str) -> UploadedFile:
    """The ``uploadfile`` part of a multipart form body."""
    if len(body) > MAX_UPLOAD_BYTES:
        raise InvalidArgument(f"the uploaded file is larger than {MAX_UPLOAD_BYTES >> 20} MiB")
    if not content_type.lower().startswith("multipart/form-data"):
        raise InvalidArgument("a pipeline upload is a multipart/form-data request with the file "
                              f"in field {FIELD!r}")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise InvalidArgument("the multipart body could not be read")
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") != FIELD:
            continue
        content = part.get_payload(decode=True)
        if not isinstance(content, bytes):
            content = b""
        return UploadedFile(filename=str(part.get_filename() or ""), content=content)
    raise InvalidArgument(f"the request has no file in field {FIELD!r}")


def _choose(names: list[str]) -> str:
    yamls = [n for n in names if n.endswith((".yaml", ".yml"))]
    for name in yamls:
        if PurePosixPath(name).name == "pipeline.yaml":
            return name
    if len(yamls) == 1:
        return yamls[0]
    if not yamls:
        raise InvalidArgument("invalid package: no pipeline YAML file in the archive")
    raise InvalidArgument("invalid package: several YAML files and none named pipeline.yaml")


def package_text(upload: UploadedFile) -> str:
    """The pipeline YAML/JSON text of an uploaded package."""
    name = upload.filename.lower()
    try:
        if name.endswith((".tar.gz", ".tgz")):
            with tarfile.open(fileobj=io.BytesIO(upload.content), mode="r:gz") as archive:
                members = {m.name: m for m in archive.getmembers() if m.isfile()}
                extracted = archive.extractfile(members[_choose(sorted(members))])
                assert extracted is not None
                data = extracted.read()
        elif name.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(upload.content)) as archive:
                data = archive.read(_choose(sorted(archive.namelist())))
        elif name.endswith((".yaml", ".yml", ".json")) or not name:
            data = upload.content
        else:
            raise InvalidArgument(f"unexpected pipeline file format {upload.filename!r}: upload a "
                                  ".yaml, .yml, .json, .tar.gz, .tgz or .zip file")
        return data.decode("utf-8")
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError) as err:
        raise InvalidArgument(f"cannot read the package {upload.filename!r}: {err}") from None
    except UnicodeDecodeError:
        raise InvalidArgument(f"the package {upload.filename!r} is not UTF-8 text") from None
