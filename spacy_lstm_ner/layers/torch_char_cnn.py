"""The PyTorch side of the character CNN: bytes → embedding → convolution →
max over the word's positions."""

import torch


class CharCNN(torch.nn.Module):
    """One vector per word from its UTF-8 bytes (Ma and Hovy 2016): each byte
    embedded in `char_width` dimensions, `nO` filters `window` bytes wide,
    each filter's maximum over the word. Byte ids are byte + 1; 0 pads. In
    training, `dropout` zeroes that share of the byte embeddings' units."""

    def __init__(self, nO: int, char_width: int, window: int):
        super().__init__()
        self.embed = torch.nn.Embedding(257, char_width, padding_idx=0)
        self.conv = torch.nn.Conv1d(char_width, nO, window, padding=window // 2)

    def forward(self, byte_ids: torch.Tensor, dropout: float = 0.0) -> torch.Tensor:
        E = torch.nn.functional.dropout(self.embed(byte_ids), dropout, self.training)
        H = self.conv(E.transpose(1, 2))
        padding = byte_ids == 0
        padding[:, 0] = False
        return H.masked_fill(padding[:, None, :], float("-inf")).amax(dim=2)
