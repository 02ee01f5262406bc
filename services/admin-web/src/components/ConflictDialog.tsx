import {
  Alert,
  Button,
  Chip,
  Dialog,
  DialogActions,
  DialogContent,
  DialogTitle,
  Stack,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableRow,
  Typography,
  useMediaQuery,
  useTheme,
} from '@mui/material';
import type { ConflictRow } from '../domain/diff.ts';

export interface ConflictDialogProps {
  readonly rows: readonly ConflictRow[];
  readonly onRetry: () => void;
  readonly onDiscard: () => void;
}

/**
 * Shown when a save met a newer version (412). Nothing was saved; the owner sees, field by field, what
 * they tried against what is on the server now, and chooses. Not dismissable by clicking outside: the
 * form must not stay in a state that can only fail again.
 */
export function ConflictDialog({ rows, onRetry, onDiscard }: ConflictDialogProps) {
  const theme = useTheme();
  const phone = useMediaQuery(theme.breakpoints.down('sm'));
  const overlapping = rows.some((r) => r.changedByYou && r.changedByOthers && r.yours !== r.current);

  return (
    <Dialog
      open
      fullScreen={phone}
      maxWidth="sm"
      fullWidth
      aria-labelledby="conflict-title"
      data-testid="conflict-dialog"
    >
      <DialogTitle id="conflict-title">Someone else changed these settings</DialogTitle>
      <DialogContent>
        <Stack spacing={2}>
          <Alert severity="warning">
            Your changes were not saved, because the settings were changed after you opened them.
            {overlapping ? ' Some fields were changed on both sides.' : ''}
          </Alert>
          <Table size="small" aria-label="Your values and the current values">
            <TableHead>
              <TableRow>
                <TableCell>Field</TableCell>
                <TableCell>Yours</TableCell>
                <TableCell>Current</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {rows.map((r) => (
                <TableRow key={r.key} data-testid={`conflict-row-${r.key}`}>
                  <TableCell component="th" scope="row">
                    <Typography variant="body2">{r.label}</Typography>
                    <Stack direction="row" spacing={0.5} sx={{ mt: 0.5, flexWrap: 'wrap' }}>
                      {r.changedByYou && <Chip size="small" color="primary" variant="outlined" label="you" />}
                      {r.changedByOthers && (
                        <Chip size="small" color="warning" variant="outlined" label="someone else" />
                      )}
                    </Stack>
                  </TableCell>
                  <TableCell sx={{ fontWeight: r.changedByYou ? 600 : 400 }}>{r.yours}</TableCell>
                  <TableCell sx={{ fontWeight: r.changedByOthers ? 600 : 400 }}>{r.current}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
          <Typography variant="body2" color="text.secondary">
            Apply mine: your changed fields are saved on top of the current version; fields only someone else
            changed keep their new values.
          </Typography>
        </Stack>
      </DialogContent>
      <DialogActions sx={{ flexWrap: 'wrap', gap: 1 }}>
        <Button onClick={onDiscard} data-testid="conflict-discard">
          Discard mine
        </Button>
        <Button variant="contained" onClick={onRetry} data-testid="conflict-retry">
          Apply mine
        </Button>
      </DialogActions>
    </Dialog>
  );
}
