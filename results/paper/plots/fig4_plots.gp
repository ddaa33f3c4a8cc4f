# written by marill plot; run in this directory: gnuplot THIS_FILE
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 1100,620 font ',10'
} else {
  set terminal png size 1100,620
}
set termoption noenhanced

reset
set datafile missing 'NaN'
set output 'fig4_fig4_prefill_time.png'
set title 'fig4: prefill, time improvement (baseline sim_s / sim_s)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set yrange [0:5.41296]
set xrange [-0.6:1.6]
set xtics ('3pc' 0, '2pc-dealer' 1)
set ylabel 'improvement factor (x)'
set grid ytics
set key outside right top
plot 'fig4_fig4_prefill_time.dat' using 2 title 'full', 'fig4_fig4_prefill_time.dat' using 3 title 'lora', 'fig4_fig4_prefill_time.dat' using 4 title 'hm4', 'fig4_fig4_prefill_time.dat' using 5 title 'lf', 'fig4_fig4_prefill_time.dat' using 6 title 'lf+hm4', 'fig4_fig4_prefill_time.dat' using 7 title 'lf+lora', 'fig4_fig4_prefill_time.dat' using ($0 + (0 - 2.5) / 7.0):2:(sprintf('%.2f', $2)) with labels offset 0,0.7 font ',8' notitle, 'fig4_fig4_prefill_time.dat' using ($0 + (1 - 2.5) / 7.0):3:(sprintf('%.2f', $3)) with labels offset 0,0.7 font ',8' notitle, 'fig4_fig4_prefill_time.dat' using ($0 + (2 - 2.5) / 7.0):4:(sprintf('%.2f', $4)) with labels offset 0,0.7 font ',8' notitle, 'fig4_fig4_prefill_time.dat' using ($0 + (3 - 2.5) / 7.0):5:(sprintf('%.2f', $5)) with labels offset 0,0.7 font ',8' notitle, 'fig4_fig4_prefill_time.dat' using ($0 + (4 - 2.5) / 7.0):6:(sprintf('%.2f', $6)) with labels offset 0,0.7 font ',8' notitle, 'fig4_fig4_prefill_time.dat' using ($0 + (5 - 2.5) / 7.0):7:(sprintf('%.2f', $7)) with labels offset 0,0.7 font ',8' notitle
unset output

reset
set datafile missing 'NaN'
set output 'fig4_fig4_prefill_comm.png'
set title 'fig4: prefill, communication improvement (baseline bytes / bytes)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set yrange [0:5.79144]
set xrange [-0.6:1.6]
set xtics ('3pc' 0, '2pc-dealer' 1)
set ylabel 'improvement factor (x)'
set grid ytics
set key outside right top
plot 'fig4_fig4_prefill_comm.dat' using 2 title 'full', 'fig4_fig4_prefill_comm.dat' using 3 title 'lora', 'fig4_fig4_prefill_comm.dat' using 4 title 'hm4', 'fig4_fig4_prefill_comm.dat' using 5 title 'lf', 'fig4_fig4_prefill_comm.dat' using 6 title 'lf+hm4', 'fig4_fig4_prefill_comm.dat' using 7 title 'lf+lora', 'fig4_fig4_prefill_comm.dat' using ($0 + (0 - 2.5) / 7.0):2:(sprintf('%.2f', $2)) with labels offset 0,0.7 font ',8' notitle, 'fig4_fig4_prefill_comm.dat' using ($0 + (1 - 2.5) / 7.0):3:(sprintf('%.2f', $3)) with labels offset 0,0.7 font ',8' notitle, 'fig4_fig4_prefill_comm.dat' using ($0 + (2 - 2.5) / 7.0):4:(sprintf('%.2f', $4)) with labels offset 0,0.7 font ',8' notitle, 'fig4_fig4_prefill_comm.dat' using ($0 + (3 - 2.5) / 7.0):5:(sprintf('%.2f', $5)) with labels offset 0,0.7 font ',8' notitle, 'fig4_fig4_prefill_comm.dat' using ($0 + (4 - 2.5) / 7.0):6:(sprintf('%.2f', $6)) with labels offset 0,0.7 font ',8' notitle, 'fig4_fig4_prefill_comm.dat' using ($0 + (5 - 2.5) / 7.0):7:(sprintf('%.2f', $7)) with labels offset 0,0.7 font ',8' notitle
unset output

reset
set datafile missing 'NaN'
set output 'fig4_fig4_decode_time.png'
set title 'fig4: decode, time improvement (baseline sim_s / sim_s)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set yrange [0:4.46148]
set xrange [-0.6:1.6]
set xtics ('3pc' 0, '2pc-dealer' 1)
set ylabel 'improvement factor (x)'
set grid ytics
set key outside right top
plot 'fig4_fig4_decode_time.dat' using 2 title 'full', 'fig4_fig4_decode_time.dat' using 3 title 'lora', 'fig4_fig4_decode_time.dat' using 4 title 'hm4', 'fig4_fig4_decode_time.dat' using 5 title 'lf', 'fig4_fig4_decode_time.dat' using 6 title 'lf+hm4', 'fig4_fig4_decode_time.dat' using 7 title 'lf+lora', 'fig4_fig4_decode_time.dat' using ($0 + (0 - 2.5) / 7.0):2:(sprintf('%.2f', $2)) with labels offset 0,0.7 font ',8' notitle, 'fig4_fig4_decode_time.dat' using ($0 + (1 - 2.5) / 7.0):3:(sprintf('%.2f', $3)) with labels offset 0,0.7 font ',8' notitle, 'fig4_fig4_decode_time.dat' using ($0 + (2 - 2.5) / 7.0):4:(sprintf('%.2f', $4)) with labels offset 0,0.7 font ',8' notitle, 'fig4_fig4_decode_time.dat' using ($0 + (3 - 2.5) / 7.0):5:(sprintf('%.2f', $5)) with labels offset 0,0.7 font ',8' notitle, 'fig4_fig4_decode_time.dat' using ($0 + (4 - 2.5) / 7.0):6:(sprintf('%.2f', $6)) with labels offset 0,0.7 font ',8' notitle, 'fig4_fig4_decode_time.dat' using ($0 + (5 - 2.5) / 7.0):7:(sprintf('%.2f', $7)) with labels offset 0,0.7 font ',8' notitle
unset output

reset
set datafile missing 'NaN'
set output 'fig4_fig4_decode_comm.png'
set title 'fig4: decode, communication improvement (baseline bytes / bytes)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set yrange [0:6.88116]
set xrange [-0.6:1.6]
set xtics ('3pc' 0, '2pc-dealer' 1)
set ylabel 'improvement factor (x)'
set grid ytics
set key outside right top
plot 'fig4_fig4_decode_comm.dat' using 2 title 'full', 'fig4_fig4_decode_comm.dat' using 3 title 'lora', 'fig4_fig4_decode_comm.dat' using 4 title 'hm4', 'fig4_fig4_decode_comm.dat' using 5 title 'lf', 'fig4_fig4_decode_comm.dat' using 6 title 'lf+hm4', 'fig4_fig4_decode_comm.dat' using 7 title 'lf+lora', 'fig4_fig4_decode_comm.dat' using ($0 + (0 - 2.5) / 7.0):2:(sprintf('%.2f', $2)) with labels offset 0,0.7 font ',8' notitle, 'fig4_fig4_decode_comm.dat' using ($0 + (1 - 2.5) / 7.0):3:(sprintf('%.2f', $3)) with labels offset 0,0.7 font ',8' notitle, 'fig4_fig4_decode_comm.dat' using ($0 + (2 - 2.5) / 7.0):4:(sprintf('%.2f', $4)) with labels offset 0,0.7 font ',8' notitle, 'fig4_fig4_decode_comm.dat' using ($0 + (3 - 2.5) / 7.0):5:(sprintf('%.2f', $5)) with labels offset 0,0.7 font ',8' notitle, 'fig4_fig4_decode_comm.dat' using ($0 + (4 - 2.5) / 7.0):6:(sprintf('%.2f', $6)) with labels offset 0,0.7 font ',8' notitle, 'fig4_fig4_decode_comm.dat' using ($0 + (5 - 2.5) / 7.0):7:(sprintf('%.2f', $7)) with labels offset 0,0.7 font ',8' notitle
unset output

reset
set datafile missing 'NaN'
set output 'fig4_table2_prefill_time.png'
set title 'fig4: prefill, time improvement (baseline sim_s / sim_s) against f'
set xlabel 'freeze f (fraction of the layers that is private)'
set ylabel 'improvement factor (x)'
set grid
set key outside right top
set xrange [0.4:1.05]
set yrange [0:5.18742]
set samples 400
plot 'fig4_table2_prefill_time.dat' index 0 using 1:2 with linespoints lw 2 pt 7 title '3pc r=0 targets= m=1 grouping=adjacent', 'fig4_table2_prefill_time.dat' index 1 using 1:2 with linespoints lw 2 pt 7 title '3pc r=64 targets=q+k+v+o+gate+up+down m=1 grouping=adjacent', 'fig4_table2_prefill_time.dat' index 2 using 1:2 with linespoints lw 2 pt 7 title '3pc r=0 targets= m=4 grouping=similar', 'fig4_table2_prefill_time.dat' index 3 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=0 targets= m=1 grouping=adjacent', 'fig4_table2_prefill_time.dat' index 4 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=64 targets=q+k+v+o+gate+up+down m=1 grouping=adjacent', 'fig4_table2_prefill_time.dat' index 5 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=0 targets= m=4 grouping=similar', 1/x with lines dt 2 lc rgb 'gray40' title '1/f (no fixed cost)'
unset output

reset
set datafile missing 'NaN'
set output 'fig4_table2_prefill_comm.png'
set title 'fig4: prefill, communication improvement (baseline bytes / bytes) against f'
set xlabel 'freeze f (fraction of the layers that is private)'
set ylabel 'improvement factor (x)'
set grid
set key outside right top
set xrange [0.4:1.05]
set yrange [0:5.55013]
set samples 400
plot 'fig4_table2_prefill_comm.dat' index 0 using 1:2 with linespoints lw 2 pt 7 title '3pc r=0 targets= m=1 grouping=adjacent', 'fig4_table2_prefill_comm.dat' index 1 using 1:2 with linespoints lw 2 pt 7 title '3pc r=64 targets=q+k+v+o+gate+up+down m=1 grouping=adjacent', 'fig4_table2_prefill_comm.dat' index 2 using 1:2 with linespoints lw 2 pt 7 title '3pc r=0 targets= m=4 grouping=similar', 'fig4_table2_prefill_comm.dat' index 3 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=0 targets= m=1 grouping=adjacent', 'fig4_table2_prefill_comm.dat' index 4 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=64 targets=q+k+v+o+gate+up+down m=1 grouping=adjacent', 'fig4_table2_prefill_comm.dat' index 5 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=0 targets= m=4 grouping=similar', 1/x with lines dt 2 lc rgb 'gray40' title '1/f (no fixed cost)'
unset output

reset
set datafile missing 'NaN'
set output 'fig4_table2_decode_time.png'
set title 'fig4: decode, time improvement (baseline sim_s / sim_s) against f'
set xlabel 'freeze f (fraction of the layers that is private)'
set ylabel 'improvement factor (x)'
set grid
set key outside right top
set xrange [0.4:1.05]
set yrange [0:4.27558]
set samples 400
plot 'fig4_table2_decode_time.dat' index 0 using 1:2 with linespoints lw 2 pt 7 title '3pc r=0 targets= m=1 grouping=adjacent', 'fig4_table2_decode_time.dat' index 1 using 1:2 with linespoints lw 2 pt 7 title '3pc r=64 targets=q+k+v+o+gate+up+down m=1 grouping=adjacent', 'fig4_table2_decode_time.dat' index 2 using 1:2 with linespoints lw 2 pt 7 title '3pc r=0 targets= m=4 grouping=similar', 'fig4_table2_decode_time.dat' index 3 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=0 targets= m=1 grouping=adjacent', 'fig4_table2_decode_time.dat' index 4 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=64 targets=q+k+v+o+gate+up+down m=1 grouping=adjacent', 'fig4_table2_decode_time.dat' index 5 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=0 targets= m=4 grouping=similar', 1/x with lines dt 2 lc rgb 'gray40' title '1/f (no fixed cost)'
unset output

reset
set datafile missing 'NaN'
set output 'fig4_table2_decode_comm.png'
set title 'fig4: decode, communication improvement (baseline bytes / bytes) against f'
set xlabel 'freeze f (fraction of the layers that is private)'
set ylabel 'improvement factor (x)'
set grid
set key outside right top
set xrange [0.4:1.05]
set yrange [0:6.59444]
set samples 400
plot 'fig4_table2_decode_comm.dat' index 0 using 1:2 with linespoints lw 2 pt 7 title '3pc r=0 targets= m=1 grouping=adjacent', 'fig4_table2_decode_comm.dat' index 1 using 1:2 with linespoints lw 2 pt 7 title '3pc r=64 targets=q+k+v+o+gate+up+down m=1 grouping=adjacent', 'fig4_table2_decode_comm.dat' index 2 using 1:2 with linespoints lw 2 pt 7 title '3pc r=0 targets= m=4 grouping=similar', 'fig4_table2_decode_comm.dat' index 3 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=0 targets= m=1 grouping=adjacent', 'fig4_table2_decode_comm.dat' index 4 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=64 targets=q+k+v+o+gate+up+down m=1 grouping=adjacent', 'fig4_table2_decode_comm.dat' index 5 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=0 targets= m=4 grouping=similar', 1/x with lines dt 2 lc rgb 'gray40' title '1/f (no fixed cost)'
unset output

reset
set datafile missing 'NaN'
set output 'fig4_ops_prefill_3pc.png'
set title 'fig4: prefill 3pc, share of online bytes by op kind'
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border -1
set boxwidth 0.75
set yrange [0:100]
set ylabel 'share of online bytes (%)'
set xtics rotate by -35 ('full' 0, 'lora' 1, 'hm4' 2, 'lf' 3, 'lf+hm4' 4, 'lf+lora' 5)
set key outside right top
plot 'fig4_ops_prefill_3pc.dat' using 2 title 'layers', 'fig4_ops_prefill_3pc.dat' using 3 title 'input', 'fig4_ops_prefill_3pc.dat' using 4 title 'argmax', 'fig4_ops_prefill_3pc.dat' using 5 title 'lm_head', 'fig4_ops_prefill_3pc.dat' using 6 title 'norm', 'fig4_ops_prefill_3pc.dat' using 7 title 'reveal'
unset output

reset
set datafile missing 'NaN'
set output 'fig4_ops_decode_3pc.png'
set title 'fig4: decode 3pc, share of online bytes by op kind'
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border -1
set boxwidth 0.75
set yrange [0:100]
set ylabel 'share of online bytes (%)'
set xtics rotate by -35 ('full' 0, 'lora' 1, 'hm4' 2, 'lf' 3, 'lf+hm4' 4, 'lf+lora' 5)
set key outside right top
plot 'fig4_ops_decode_3pc.dat' using 2 title 'layers', 'fig4_ops_decode_3pc.dat' using 3 title 'argmax', 'fig4_ops_decode_3pc.dat' using 4 title 'lm_head', 'fig4_ops_decode_3pc.dat' using 5 title 'norm', 'fig4_ops_decode_3pc.dat' using 6 title 'input', 'fig4_ops_decode_3pc.dat' using 7 title 'reveal'
unset output

reset
set datafile missing 'NaN'
set output 'fig4_ops_prefill_2pc-dealer.png'
set title 'fig4: prefill 2pc-dealer, share of online bytes by op kind'
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border -1
set boxwidth 0.75
set yrange [0:100]
set ylabel 'share of online bytes (%)'
set xtics rotate by -35 ('full' 0, 'lora' 1, 'hm4' 2, 'lf' 3, 'lf+hm4' 4, 'lf+lora' 5)
set key outside right top
plot 'fig4_ops_prefill_2pc-dealer.dat' using 2 title 'layers', 'fig4_ops_prefill_2pc-dealer.dat' using 3 title 'input', 'fig4_ops_prefill_2pc-dealer.dat' using 4 title 'argmax', 'fig4_ops_prefill_2pc-dealer.dat' using 5 title 'lm_head', 'fig4_ops_prefill_2pc-dealer.dat' using 6 title 'norm', 'fig4_ops_prefill_2pc-dealer.dat' using 7 title 'reveal'
unset output

reset
set datafile missing 'NaN'
set output 'fig4_ops_decode_2pc-dealer.png'
set title 'fig4: decode 2pc-dealer, share of online bytes by op kind'
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border -1
set boxwidth 0.75
set yrange [0:100]
set ylabel 'share of online bytes (%)'
set xtics rotate by -35 ('full' 0, 'lora' 1, 'hm4' 2, 'lf' 3, 'lf+hm4' 4, 'lf+lora' 5)
set key outside right top
plot 'fig4_ops_decode_2pc-dealer.dat' using 2 title 'layers', 'fig4_ops_decode_2pc-dealer.dat' using 3 title 'argmax', 'fig4_ops_decode_2pc-dealer.dat' using 4 title 'lm_head', 'fig4_ops_decode_2pc-dealer.dat' using 5 title 'norm', 'fig4_ops_decode_2pc-dealer.dat' using 6 title 'input', 'fig4_ops_decode_2pc-dealer.dat' using 7 title 'reveal'
unset output
