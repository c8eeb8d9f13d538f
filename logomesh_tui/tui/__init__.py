"""The Textual dashboard: the only part of LogoMesh that imports textual."""

from .app import LogoMeshApp

__all__ = ["LogoMeshApp"]
